"""dredconf.reference"""
