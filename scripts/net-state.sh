#!/usr/bin/env bash
# Prints the network links, nftables tables, IPv4 forwarding and binfmt_misc
# entries of this machine, one a line (`link NAME`, `table FAMILY NAME`,
# `ip_forward N`, `binfmt NAME`), for the leak check to compare.
ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sed 's/^/link /'
nft list tables 2>/dev/null | sed 's/^table /table /'
# Host settings a test must leave as it found them: IPv4 forwarding and
# the binfmt_misc emulators (`--platform` tests register some).
echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)"
for e in /proc/sys/fs/binfmt_misc/*; do
  case "$(basename "$e")" in register|status|\*) ;; *) echo "binfmt $(basename "$e")" ;; esac
done
