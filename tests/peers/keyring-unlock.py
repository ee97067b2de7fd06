"""Unlocks the login collection of a (test) gnome-keyring with its password, without a prompt,
through the daemon's internal interface (the one its own PAM module uses).
Usage: DBUS_SESSION_BUS_ADDRESS=... venv/bin/python keyring-unlock.py PASSWORD
Exits non-zero (with the D-Bus error) when the daemon refuses."""
import sys

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import open_dbus_connection

SECRETS = "org.freedesktop.secrets"
LOGIN = "/org/freedesktop/secrets/collection/login"

password = sys.argv[1].encode()
conn = open_dbus_connection(bus="SESSION")
service = DBusAddress("/org/freedesktop/secrets", bus_name=SECRETS, interface="org.freedesktop.Secret.Service")
session = conn.send_and_get_reply(new_method_call(service, "OpenSession", "sv", ("plain", ("s", "")))).body[1]
internal = DBusAddress(
    "/org/freedesktop/secrets", bus_name=SECRETS, interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"
)
reply = conn.send_and_get_reply(
    new_method_call(internal, "UnlockWithMasterPassword", "o(oayays)", (LOGIN, (session, b"", password, "text/plain")))
)
if reply.header.message_type != MessageType.method_return:
    sys.exit(f"unlock refused: {reply.body}")
