"""Tests and tools pick free ports for local stacks: below the kernel's ephemeral range, where no outgoing
connection can take one between the pick and the stack's bind (a clean CI run failed on it: the WebSocket
gateway's port, 'address already in use')."""

from __future__ import annotations

import socket

from infra.local.net import ephemeral_ports, free_port


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    ports = {free_port() for _ in range(50)}
    assert all(1024 <= port < ephemeral_ports().start for port in ports)
    assert len(ports) > 40  # picked at random: two stacks started together do not get the same ones
    for port in list(ports)[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
