"""GB/T 28181 as Amur's upper platform sees it: pure decisions, no sockets.

``digest`` checks REGISTER credentials (RFC 2617 digest, as GB/T 28181-2016 §9.1
uses), ``manscdp`` reads and writes the MANSCDP XML bodies (Keepalive, Catalog,
Alarm, DeviceControl), ``devices`` keeps who is registered and decides who went
offline (time passed in), ``placement`` turns a catalogue into inventory rows.
The SIP server that drives them is the I/O edge :mod:`vision.sources.gb28181`.
"""
