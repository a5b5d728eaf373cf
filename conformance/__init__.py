"""dredconf.conformance"""
