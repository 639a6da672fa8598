#!/usr/bin/env python3
"""A local RDAP responder for tests: GET /ip/ADDR answers DIR/rdap-ADDR.json
(application/rdap+json), anything else 404. Listens on 127.0.0.1, port 0; prints the
port on stdout. usage: rdap_responder.py DIR"""
import http.server
import os
import sys

DIR = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/ip/"):
            name = os.path.join(DIR, "rdap-" + path[4:].replace("/", "_") + ".json")
            if os.path.isfile(name):
                body = open(name, "rb").read()
                self.send_response(200)
                self.send_header("Content-Type", "application/rdap+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        self.send_response(404)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
