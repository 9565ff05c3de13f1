#!/usr/bin/env bash
# Prints the network links and nftables tables of this machine, one a line
# (`link NAME`, `table FAMILY NAME`), for the leak check to compare.
ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | sed 's/^/link /'
nft list tables 2>/dev/null | sed 's/^table /table /'
