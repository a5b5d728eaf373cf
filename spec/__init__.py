"""dredconf.spec"""
