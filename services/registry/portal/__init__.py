"""The public portal: a processor's sub-processor list as HTML, and e-mail subscriptions.

Pages are rendered on the server and work without JavaScript; nothing is inline (the
stylesheet is served from /portal/static/), so a strict Content-Security-Policy holds.
"""
