"""dredconf.vectors"""
