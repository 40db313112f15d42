#!/usr/bin/env python3
"""reap_owner.py READY_FIFO STATUS_FILE CMD...: runs CMD (husk create ...) as a
child subreaper, the way containerd's runc shim and conmon do, writes "created"
(or "failed N") to READY_FIFO when CMD returns, then reaps the --pid-file
process CMD left behind and writes "PID EXIT_CODE" to STATUS_FILE."""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36

ready, status_file, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
child = os.fork()
if child == 0:
    os.execvp(cmd[0], cmd)
_, st = os.waitpid(child, 0)
code = os.waitstatus_to_exitcode(st)
with open(ready, "w") as f:
    f.write("created\n" if code == 0 else "failed %d\n" % code)
if code != 0:
    sys.exit(code)
pid, st = os.wait()
with open(status_file + ".tmp", "w") as f:
    f.write("%d %d\n" % (pid, os.waitstatus_to_exitcode(st)))
os.rename(status_file + ".tmp", status_file)
