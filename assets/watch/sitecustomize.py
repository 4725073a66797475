"""poolscope's hook for `poolscope watch`: task bars from an unmodified Python program.

poolscope writes this file to a private folder and puts that folder first on PYTHONPATH,
so Python imports it at start-up, in the program and in every process it starts (fork,
spawn or forkserver). It

- runs any sitecustomize it shadows (Debian ships one), first;
- patches concurrent.futures lazily, when the program imports it: ThreadPoolExecutor.submit
  and ProcessPoolExecutor.submit (and so map) wrap each call so that the process and thread
  that run it report when it starts and ends;
- sends one JSON line per task submit, start and end (a connection per thread) to the unix
  socket whose path is in
  POOLSCOPE_WATCH_SOCKET (a path, never an inherited file descriptor: multiprocessing's
  spawn and forkserver close descriptors and reuse their numbers).

It never breaks the host program: any failure disables it with one line on stderr, and a
record poolscope cannot take within 2 s is dropped (and counted), never waited for longer.
"""

import os
import sys

_SOCKET_ENV = "POOLSCOPE_WATCH_SOCKET"
_HOOK_DIR_ENV = "POOLSCOPE_WATCH_HOOK_DIR"
_REPR_MAX = 200


def _chain_shadowed_sitecustomize():
    """Runs the sitecustomize this file shadows, if there is one further down sys.path."""
    here = os.environ.get(_HOOK_DIR_ENV) or os.path.dirname(os.path.abspath(__file__))
    try:
        import importlib.machinery
        import importlib.util

        rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
        if spec is None or spec.loader is None:
            return
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception as error:  # the shadowed file's own failure is not ours to hide
        sys.stderr.write("poolscope hook: the shadowed sitecustomize failed: %r\n" % (error,))


_chain_shadowed_sitecustomize()


class _Connection:
    """One socket to poolscope, which knows its own descriptor: the program may close
    descriptors it did not open (os.closerange, a daemon's fork) and open its own files under
    the same numbers. A connection that finds its number is another file's any more never
    writes to it and never closes it (it lets go of the number: detach)."""

    def __init__(self, path):
        import socket

        self.sock = None  # (so __del__ of one that failed to connect has nothing to do)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A record waits at most this long for poolscope, then is dropped and counted.
        sock.settimeout(2.0)
        try:
            sock.connect(path)
            st = os.fstat(sock.fileno())
        except BaseException:
            sock.close()  # just made: the number is still ours
            raise
        self.sock = sock
        self.ident = (st.st_dev, st.st_ino)
        self.pid = os.getpid()
        self.introduced = False

    def ours(self):
        """Whether the descriptor is still this connection's socket."""
        return self.sock is not None and self._same(self.sock)

    def release(self):
        sock, self.sock = getattr(self, "sock", None), None
        if sock is None:
            return
        try:
            if self._same(sock):
                sock.close()
            else:
                sock.detach()
        except OSError:
            pass

    def _same(self, sock):
        try:
            st = os.fstat(sock.fileno())
        except Exception:  # (at interpreter shutdown, anything)
            return False
        return (st.st_dev, st.st_ino) == self.ident

    def __del__(self):
        # A thread's connection goes with the thread: closed if still ours, else let go.
        self.release()


class _Slot:
    """Where a connection is kept: a thread's own (a thread-local), or a process's shared."""

    conn = None


class _Sender:
    """One connection to poolscope per thread of each process (a forked child makes its
    own): one JSON line per record over a unix stream socket, which never loses a record
    while poolscope keeps up, and never holds the program up for long if it does not.

    A connection per thread, not per process: threads never share a socket, so no lock is
    needed (a lock would make a pool thread wait for another's send, which itself waits
    for the GIL: waits poolscope would then see as a lock's, not the GIL's)."""

    def __init__(self, path):
        import _thread

        self.path = path
        self.dropped = 0
        self.local = _thread._local()
        # Past this many threads with a connection of their own, the rest of a process's
        # threads share one under a lock: each connection is a descriptor of the program's,
        # and a program near its limit must not run out because it is watched.
        try:
            import resource

            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        except Exception:
            soft = 1024
        self.own_at_most = max(1, min(64, (soft if soft > 0 else 1024) // 16))
        self.own = (os.getpid(), 0)  # (process, connections of its own opened there)
        self.shared_lock = _thread.allocate_lock()
        self.shared = _Slot()
        self.shared_pid = None

    def send(self, record):
        local = self.local
        if getattr(local, "busy", False):
            # This thread is inside a send already (a signal handler or __del__ submitting
            # meanwhile): its bytes must not land inside the other record's.
            self.dropped += 1
            return
        local.busy = True
        try:
            if self._may_own(local):
                self._send(record, local)
            else:
                self._send_shared(record)
        finally:
            local.busy = False

    def _may_own(self, local):
        """Whether this thread has, or may open, a connection of its own."""
        conn = getattr(local, "conn", None)
        if conn is not None and conn.pid == os.getpid():
            return True
        pid, opened = self.own
        if pid != os.getpid():
            pid, opened = os.getpid(), 0
        if opened >= self.own_at_most:
            return False
        self.own = (pid, opened + 1)
        return True

    def _send_shared(self, record):
        """Through the process's shared connection, one thread at a time (2 s at most)."""
        import _thread

        if self.shared_pid != os.getpid():
            # A forked child: its own lock and connection (the parent's may be held).
            self.shared_lock = _thread.allocate_lock()
            self.shared = _Slot()
            self.shared_pid = os.getpid()
        if not self.shared_lock.acquire(timeout=2.0):
            self.dropped += 1
            return
        try:
            self._send(record, self.shared)
        finally:
            self.shared_lock.release()

    def _send(self, record, local):
        import json

        if self.dropped:
            # Say how many were lost, so poolscope can tell the user bars are missing.
            record["dropped"] = self.dropped
        for attempt in range(2):
            conn = getattr(local, "conn", None)
            try:
                if conn is None or conn.pid != os.getpid() or not conn.ours():
                    # First use in this thread, a forked child, or a number the program
                    # took back: a connection of its own, by path.
                    if conn is not None:
                        local.conn = None
                        conn.release()
                    conn = local.conn = _Connection(self.path)
                if not conn.introduced:
                    # Who this process is, with its first record: poolscope may read the
                    # record after the process exited (a pool's worker lives briefly), when
                    # /proc no longer tells.
                    record["ppid"] = os.getppid()
                    argv = _command_line()
                    if argv is not None:
                        record["argv"] = argv
                data = json.dumps(record, separators=(",", ":")).encode("utf-8", "replace")
                conn.sock.sendall(data + b"\n")
                conn.introduced = True
                return
            except OSError:
                # Timed out or poolscope gone: connect afresh, once.
                if conn is not None:
                    local.conn = None
                    conn.release()
                if attempt == 1:
                    break
            except BaseException:
                # Interrupted mid-line (Ctrl-C): the next record must not be glued to it.
                if conn is not None:
                    local.conn = None
                    conn.release()
                raise
        self.dropped += 1


def _command_line():
    """This process's command line as JSON can carry it: valid UTF-8 (bytes that are not
    are replaced, as poolscope shows them anyway), each argument cut to 200 characters and
    64 arguments at most, so the record stays small; None if it cannot be read."""
    try:
        argv = getattr(sys, "orig_argv", None) or getattr(sys, "argv", None) or []
        import json

        words = []
        size = 0
        for arg in argv[:64]:
            try:
                if not isinstance(arg, str):
                    arg = str(arg)
                arg = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            except Exception:  # a lone surrogate no bytes stand for: this word alone
                arg = "?"
            arg = arg if len(arg) <= 200 else arg[:199] + "…"
            # At most 8 KiB as sent (JSON escapes a character outside ASCII to 6 or 12
            # bytes): the record must stay far below what poolscope reads as one line.
            size += len(json.dumps(arg))
            if size > 8192:
                words.append("…")
                break
            words.append(arg)
        return words
    except Exception:
        return None


def _short_repr(value):
    try:
        text = repr(value)
    except Exception as error:
        text = "<repr failed: %s>" % type(error).__name__
    if len(text) > _REPR_MAX:
        text = text[: _REPR_MAX - 1] + "…"
    return text


def _name_of(fn):
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None and hasattr(fn, "func"):  # functools.partial
        return _name_of(fn.func)
    return name or type(fn).__name__


class _Timed:
    """A pool task wrapped so that whoever runs it reports its start and end.

    Picklable (a process pool sends it to a worker process, which imports this module by
    name as its own sitecustomize), so it holds only plain data and the wrapped callable.
    """

    def __init__(self, fn, pool, kind, task):
        self.fn = fn
        self.pool = pool
        self.kind = kind
        self.task = task

    def __call__(self, *args, **kwargs):
        _emit("start", self.pool, self.kind, self.task)
        try:
            result = self.fn(*args, **kwargs)
        except BaseException as error:
            _emit("end", self.pool, self.kind, self.task, error=_short_repr(error))
            raise
        _emit("end", self.pool, self.kind, self.task, result=_short_repr(_unchunk(result)))
        return result


def _unchunk(result):
    """ProcessPoolExecutor.map runs chunks of one call each by default: show the call's own."""
    if isinstance(result, list) and len(result) == 1:
        return result[0]
    return result


def _emit(event, pool, kind, task, **extra):
    import threading
    import time

    if event == "start":
        # Python's name for the thread (ThreadPoolExecutor-0_3): the kernel's is the
        # program's until Python 3.14.
        extra["thread"] = threading.current_thread().name
    record = {
        "e": event,
        "t": time.monotonic_ns(),
        "c": time.thread_time_ns(),
        "pid": os.getpid(),
        "tid": threading.get_native_id(),
        "pool": pool,
        "kind": kind,
        "task": task,
    }
    record.update(extra)
    try:
        _SENDER.send(record)
    except Exception as error:
        _disable(error)


def _describe_call(fn, args):
    """The user's function and argument, seen through ProcessPoolExecutor.map's chunking."""
    import functools

    if isinstance(fn, functools.partial) and getattr(fn.func, "__name__", "") == "_process_chunk":
        user_fn = fn.args[0] if fn.args else fn.func
        chunk = args[0] if args else ()
        try:
            chunk = list(chunk)
        except TypeError:
            chunk = [chunk]
        if len(chunk) == 1:
            (call_args,) = chunk
            arg = call_args[0] if len(call_args) == 1 else call_args
        else:
            arg = chunk
        return _name_of(user_fn), _short_repr(arg)
    if len(args) == 1:
        return _name_of(fn), _short_repr(args[0])
    return _name_of(fn), _short_repr(args)


def _patch_submit(executor_class, kind):
    original = executor_class.submit
    if getattr(original, "_poolscope", False):
        return
    counters = {}

    def submit(self, fn, /, *args, **kwargs):
        try:
            # A number of its own per pool (an id() is reused once a pool is collected).
            pool = self.__dict__.get("_poolscope_pool")
            if pool is None:
                pool = "%d:%d" % (os.getpid(), next(_POOL_NUMBERS))
                self._poolscope_pool = pool
            task = counters.get(pool, 0)
            counters[pool] = task + 1
            name, arg = _describe_call(fn, args)
            _emit("submit", pool, kind, task, func=name, arg=arg)
            wrapped = _Timed(fn, pool, kind, task)
        except Exception as error:
            _disable(error)
            return original(self, fn, *args, **kwargs)
        return original(self, wrapped, *args, **kwargs)

    submit._poolscope = True
    submit.__wrapped__ = original
    executor_class.submit = submit


_POOL_NUMBERS = __import__("itertools").count()

_PATCHES = {
    "concurrent.futures.thread": ("ThreadPoolExecutor", "thread"),
    "concurrent.futures.process": ("ProcessPoolExecutor", "process"),
}


class _PatchOnImport:
    """A meta path finder that patches the pools' modules once they are imported."""

    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        import importlib.machinery

        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, name)
                return spec
        return None


class _PatchingLoader:
    def __init__(self, loader, name):
        self.loader = loader
        self.name = name

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        try:
            class_name, kind = _PATCHES[self.name]
            _patch_submit(getattr(module, class_name), kind)
        except Exception as error:
            _disable(error)


def _disable(error):
    global _ENABLED
    if not _ENABLED:
        return
    _ENABLED = False
    try:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _PatchOnImport)]
        for module_name, (class_name, _) in _PATCHES.items():
            module = sys.modules.get(module_name)
            cls = getattr(module, class_name, None) if module else None
            if cls is not None and getattr(cls.submit, "_poolscope", False):
                cls.submit = cls.submit.__wrapped__
    finally:
        sys.stderr.write("poolscope hook: disabled (%s: %s)\n" % (type(error).__name__, error))


_ENABLED = False
_SENDER = None
_path = os.environ.get(_SOCKET_ENV)
if _path:
    try:
        _SENDER = _Sender(_path)
        _ENABLED = True
        for _name in _PATCHES:
            if _name in sys.modules:  # imported before us (rare): patch at once
                _cls_name, _kind = _PATCHES[_name]
                _patch_submit(getattr(sys.modules[_name], _cls_name), _kind)
        sys.meta_path.insert(0, _PatchOnImport())
    except Exception as _error:
        _disable(_error)
