#!/usr/bin/env bash
# Runs "$@" with a fresh, unlocked gnome-keyring on the current D-Bus session bus (start it under
# `dbus-run-session`), and stops the keyring daemon by PID afterwards. Used by test.sh and bench.sh.
set -u
printf "throwaway-keyring-password" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
keyring_pid=$!
trap 'kill "$keyring_pid" 2>/dev/null; wait "$keyring_pid" 2>/dev/null' EXIT
# Wait until the Secret Service answers on the bus.
for _ in $(seq 50); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
  sleep 0.1
done
"$@"
