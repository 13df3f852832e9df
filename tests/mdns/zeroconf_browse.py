#!/usr/bin/env python3
"""A real mDNS peer that is not ours: python-zeroconf browses _sitegate._tcp.local. and prints one
JSON line per event (found, removed, timeout) on stdout, for tests/discovery.rs.

found:   {"event": "found", "name", "server", "port", "addresses", "properties", "served_fp"}
         served_fp: SHA-256 of the certificate the gateway serves at the first address, unpadded
         base64url (only with --tls).
updated: {"event": "updated", "name", "addresses"} (e.g. the gateway announced a new address)
removed: {"event": "removed", "name"}
"""
import argparse
import base64
import hashlib
import json
import socket
import ssl
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceListener, Zeroconf

TYPE = "_sitegate._tcp.local."
lock = threading.Lock()


def emit(obj):
    with lock:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def served_fingerprint(host, port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=5) as sock:
        with ctx.wrap_socket(sock) as tls:
            der = tls.getpeercert(binary_form=True)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


class Listener(ServiceListener):
    def __init__(self, instance, tls):
        self.instance = instance
        self.tls = tls

    def wanted(self, name):
        return self.instance is None or name == f"{self.instance}.{TYPE}"

    def add_service(self, zc, type_, name):
        if not self.wanted(name):
            return
        info = zc.get_service_info(type_, name, 3000)
        if info is None:
            emit({"event": "unresolved", "name": name})
            return
        addresses = info.parsed_addresses()
        props = {
            k.decode("utf-8", "replace"): (v.decode("utf-8", "replace") if v is not None else None)
            for k, v in info.properties.items()
        }
        found = {
            "event": "found",
            "name": name,
            "server": info.server,
            "port": info.port,
            "addresses": addresses,
            "properties": props,
            "text_bytes": len(info.text or b""),
        }
        if self.tls and addresses:
            try:
                found["served_fp"] = served_fingerprint(addresses[0], info.port)
            except OSError as e:
                found["served_fp_error"] = str(e)
        emit(found)

    def remove_service(self, zc, type_, name):
        if self.wanted(name):
            emit({"event": "removed", "name": name})

    def update_service(self, zc, type_, name):
        if not self.wanted(name):
            return
        info = zc.get_service_info(type_, name, 3000)
        if info is not None:
            emit({"event": "updated", "name": name, "addresses": info.parsed_addresses()})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--interface", action="append", help="an address to confine zeroconf to, e.g. 127.0.0.1")
    p.add_argument("--instance", help="only this instance name")
    p.add_argument("--tls", action="store_true", help="fetch the served certificate's fingerprint")
    p.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args()
    kwargs = {"ip_version": IPVersion.V4Only}
    if a.interface:
        kwargs["interfaces"] = a.interface
    zc = Zeroconf(**kwargs)
    ServiceBrowser(zc, TYPE, Listener(a.instance, a.tls))
    emit({"event": "browsing"})
    try:
        time.sleep(a.timeout)
        emit({"event": "timeout"})
    finally:
        zc.close()


if __name__ == "__main__":
    main()
