#!/usr/bin/env python3
"""tty_driver.py: drives a terminal from the far end for tests/integration/tty.bats.

  tty_driver.py console SOCKET LOG STEP...
      Listens on SOCKET as a --console-socket receiver; accepts one
      connection, takes one message (fds and the name), prints
      "fds=N name=NAME", then runs the STEPs on the received master and
      copies everything it reads to LOG until the pty hangs up.
  tty_driver.py spawn LOG STEP... -- CMD...
      Runs CMD on a fresh pty (its controlling terminal, 24x80, cooked mode),
      runs the STEPs on the master, waits for CMD, prints "exit=N" and
      "mode=restored" or "mode=changed" (the pty's termios after CMD against
      before it).

STEPs: expect:REGEX (output since the last match, bounded wait), send:TEXT
(Python escapes such as \\r), resize:ROWSxCOLS (TIOCSWINSZ on the master),
kill:SIG (signal CMD, spawn only), run:SHELL_COMMAND (must succeed), close:
(closes the master and stops). Any failure exits 1 with a message.
"""
import fcntl
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

TIMEOUT = float(os.environ.get("TTY_TIMEOUT", "120"))


class Far:
    def __init__(self, master, log, child=None):
        self.master, self.log, self.child = master, log, child
        self.buf, self.pos, self.hung_up, self.status = b"", 0, False, None

    def poll_child(self):
        if self.child is not None and self.status is None:
            pid, st = os.waitpid(self.child, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)

    def read_some(self, timeout):
        if self.hung_up:
            return False
        r, _, _ = select.select([self.master], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            self.hung_up = True
            return False
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def expect(self, pattern):
        rx = re.compile(pattern.encode())
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return
            self.poll_child()
            ended = self.hung_up or self.status is not None
            if ended and not self.read_some(0.2):
                sys.exit("expect %r: the terminal ended; output: %r" % (pattern, self.buf))
            if time.monotonic() > deadline:
                sys.exit("expect %r: timed out; output: %r" % (pattern, self.buf))
            self.read_some(0.2)

    def step(self, s):
        kind, _, arg = s.partition(":")
        if kind == "expect":
            self.expect(arg)
        elif kind == "send":
            os.write(self.master, arg.encode().decode("unicode_escape").encode())
        elif kind == "resize":
            rows, cols = (int(v) for v in arg.split("x"))
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        elif kind == "kill":
            os.kill(self.child, getattr(signal, arg))
        elif kind == "run":
            subprocess.run(arg, shell=True, check=True)
        elif kind == "close":
            os.close(self.master)
            self.hung_up = True
        else:
            sys.exit("unknown step %r" % s)


def console(sock_path, log_path, steps):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    srv.settimeout(TIMEOUT)
    conn, _ = srv.accept()
    name, fds, _, _ = socket.recv_fds(conn, 4096, 8)
    conn.close()
    print("fds=%d name=%s" % (len(fds), name.decode(errors="replace")), flush=True)
    if len(fds) != 1:
        sys.exit("expected one fd, got %d" % len(fds))
    with open(log_path, "wb") as log:
        far = Far(fds[0], log)
        for s in steps:
            far.step(s)
        deadline = time.monotonic() + TIMEOUT
        while not far.hung_up and time.monotonic() < deadline:
            far.read_some(0.5)
        if not far.hung_up:
            sys.exit("the console did not hang up")


def spawn(log_path, steps, cmd):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    before = termios.tcgetattr(slave)
    child = os.fork()
    if child == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execvp(cmd[0], cmd)
    with open(log_path, "wb") as log:
        far = Far(master, log, child)
        for s in steps:
            far.step(s)
        deadline = time.monotonic() + TIMEOUT
        while far.status is None and time.monotonic() < deadline:
            far.read_some(0.2)
            far.poll_child()
        if far.status is None:
            os.kill(child, signal.SIGKILL)
            sys.exit("the command did not exit")
        while far.read_some(0.1):
            pass
    after = termios.tcgetattr(slave)
    print("exit=%d" % far.status)
    print("mode=%s" % ("restored" if after == before else "changed"), flush=True)


def main(argv):
    if len(argv) >= 4 and argv[1] == "console":
        console(argv[2], argv[3], argv[4:])
    elif len(argv) >= 4 and argv[1] == "spawn" and "--" in argv:
        sep = argv.index("--")
        spawn(argv[2], argv[3:sep], argv[sep + 1:])
    else:
        sys.exit(__doc__)


main(sys.argv)
