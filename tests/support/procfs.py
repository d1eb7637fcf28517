"""What /proc says about a running process: CPU time, memory (VmRSS, VmHWM), open files and the
sockets it listens on.

Linux only. Listening sockets are the ones in the kernel's socket tables (`/proc/<pid>/net/tcp*`,
`udp*`, `unix`) whose inode is one of the process's open file descriptors.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

TCP_LISTEN = "0A"
UNIX_ACCEPTING = 0x10000  # __SO_ACCEPTCON: a unix socket that listen() was called on
CLK_TCK = os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of the process, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def parse_stat_cpu(stat_line: str, clk_tck: int = CLK_TCK) -> float:
    """utime + stime in seconds from a /proc/<pid>/stat line (the command name may hold spaces)."""
    fields = stat_line[stat_line.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / clk_tck


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads, exited ones included)."""
    return parse_stat_cpu(Path(f"/proc/{pid}/stat").read_text())


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process's main thread (the daemon's event loop)."""
    return parse_stat_cpu(Path(f"/proc/{pid}/task/{pid}/stat").read_text())


def parse_status_kb(status_text: str, key: str) -> int:
    """A `kB` field (VmRSS, VmHWM, ...) of /proc/<pid>/status."""
    for line in status_text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB."""
    text = Path(f"/proc/{pid}/status").read_text()
    return parse_status_kb(text, "VmRSS"), parse_status_kb(text, "VmHWM")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass(frozen=True)
class Listener:
    protocol: str
    address: str
    port: int


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listeners(pid: int) -> list[Listener]:
    """Every socket of the process that accepts connections or datagrams from elsewhere."""
    mine = socket_inodes(pid)
    found = []
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        for local, remote_port, state, inode in _inet_table(pid, protocol):
            # An unconnected UDP socket receives from anyone (a resolver's connected one does not).
            accepting = state == TCP_LISTEN if protocol.startswith("tcp") else remote_port == 0
            if inode in mine and accepting:
                found.append(Listener(protocol, *local))
    found += [Listener("unix", path, 0) for path, inode in _unix_listeners(pid) if inode in mine]
    return found


def _inet_table(pid: int, protocol: str) -> list[tuple[tuple[str, int], int, str, int]]:
    """(local address, remote port, state, inode) of each socket in the namespace's table."""
    try:
        with open(f"/proc/{pid}/net/{protocol}", encoding="ascii") as table:
            rows = table.read().splitlines()[1:]
    except FileNotFoundError:
        return []  # no IPv6 in this kernel
    entries = []
    for row in rows:
        fields = row.split()
        entries.append((_address(fields[1]), _address(fields[2])[1], fields[3], int(fields[9])))
    return entries


def _address(hex_address: str) -> tuple[str, int]:
    """`0100007F:1F95` -> ("127.0.0.1", 8085); IPv6 words are little-endian 32-bit groups."""
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(packed)), int(port, 16)


def _unix_listeners(pid: int) -> list[tuple[str, int]]:
    with open(f"/proc/{pid}/net/unix", encoding="ascii", errors="replace") as table:
        rows = table.read().splitlines()[1:]
    found = []
    for row in rows:
        fields = row.split()
        if int(fields[3], 16) & UNIX_ACCEPTING:
            found.append((fields[7] if len(fields) > 7 else "(unnamed)", int(fields[6])))
    return found
