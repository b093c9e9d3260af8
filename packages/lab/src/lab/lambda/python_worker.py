# One published Lambda version of a Python function, run by the host's python3 in its own process
# (python-runtime.ts starts it), as Lambda's Python runtime runs it: the handler "module.func"
# imported from LAMBDA_TASK_ROOT at start (the init phase), each invocation in a thread of its own
# with the event and a context object, errors answered in the runtime's payload shape.
# https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html
#
# The lab talks to it over two pipes, one JSON message a line: fd 3 from the lab, fd 4 to it.
# stdout and stderr are the function's log, as in Lambda.
#
# Time: time.time(), datetime.now() and their kin read the lab's clock (asked of the lab, which
# holds it) plus the invocation's own offset. A time.sleep() inside an invocation returns at once
# and moves that invocation's clock on by its length; a sleep or a call to the lab that ends past
# the timeout ends the invocation there (Sandbox.Timedout), and the code after it never runs.
import datetime as _datetime
import importlib
import json
import os
import resource
import socket
import sys
import threading
import time
import traceback
import http.client

_lab_in = os.fdopen(3, "rb", buffering=0)
_lab_out = os.fdopen(4, "wb", buffering=0)
_out_lock = threading.Lock()
_local = threading.local()

_real_time = time.time
_real_sleep = time.sleep
_real_monotonic = time.monotonic


def _peak_memory():
    """The process's peak resident memory, bytes (REPORT's Max Memory Used).

    Linux's VmHWM, which starts afresh with the process's own image: ru_maxrss would carry the
    peak of the lab's Node.js process, which Linux keeps across fork and exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    # Elsewhere (macOS), ru_maxrss is in bytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _send(message):
    data = (json.dumps(message) + "\n").encode("utf-8")
    with _out_lock:
        _lab_out.write(data)


# The lab's clock: asked over the pipe, answered by the reader loop below.
_clock_waiters = {}
_clock_lock = threading.Lock()
_clock_seq = [0]


def _lab_clock_ms():
    with _clock_lock:
        _clock_seq[0] += 1
        seq = _clock_seq[0]
        slot = {"event": threading.Event()}
        _clock_waiters[seq] = slot
    _send({"type": "clock", "id": seq})
    if not slot["event"].wait(5):
        return _real_time() * 1000
    return slot["value"]


class _Timedout(BaseException):
    """Ends an invocation whose sleep or call passed its timeout (not an Exception: user code's
    `except Exception` does not swallow it)."""


def _store():
    return getattr(_local, "store", None)


def _now_ms():
    store = _store()
    return _lab_clock_ms() + (store["offset"] if store else 0)


def _check_deadline(store):
    if store["offset"] - store["base"] > store["timeout_ms"]:
        store["offset"] = store["base"] + store["timeout_ms"]
        store["timed_out"]()
        raise _Timedout()


def _lab_time():
    return _now_ms() / 1000.0


def _lab_time_ns():
    return int(_now_ms() * 1_000_000)


def _lab_sleep(seconds):
    store = _store()
    if store is None:
        return _real_sleep(seconds)
    store["offset"] += max(0.0, float(seconds)) * 1000.0
    _check_deadline(store)


time.time = _lab_time
time.time_ns = _lab_time_ns
time.sleep = _lab_sleep
_real_gmtime = time.gmtime
_real_localtime = time.localtime
time.gmtime = lambda secs=None: _real_gmtime(_lab_time() if secs is None else secs)
time.localtime = lambda secs=None: _real_localtime(_lab_time() if secs is None else secs)


_RealDateTime = _datetime.datetime
_RealDate = _datetime.date


class _LabClockType(type):
    # Dates and datetimes the C code makes (date arithmetic, parsers) stay instances of the
    # module's classes, as they are without the lab.
    def __instancecheck__(cls, obj):
        return isinstance(obj, _RealDateTime if issubclass(cls, _RealDateTime) else _RealDate)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _RealDateTime if issubclass(cls, _RealDateTime) else _RealDate)


class _LabDateTime(_RealDateTime, metaclass=_LabClockType):
    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(_lab_time(), tz)

    @classmethod
    def utcnow(cls):
        return cls.fromtimestamp(_lab_time(), _datetime.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls):
        return cls.fromtimestamp(_lab_time())


class _LabDate(_RealDate, metaclass=_LabClockType):
    @classmethod
    def today(cls):
        return cls.fromtimestamp(_lab_time())


_datetime.datetime = _LabDateTime
_datetime.date = _LabDate

# Calls to the lab carry the function's own time (x-lab-caller-now), and its answer says how long
# the call took in virtual time (x-lab-elapsed-ms): the invocation's clock moves on by that much,
# as worker.js does for Node.js. Any other host answers as the lab's network map says, and one not
# in it fails as DNS does: nothing leaves the machine.
_network = {}
_LOOPBACK = ("localhost", "::1", "[::1]")


def _is_loopback(host):
    return host in _LOOPBACK or str(host).startswith("127.")


class _FakeSocket:
    def __init__(self, status):
        reason = http.client.responses.get(status, "")
        self._response = ("HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % (status, reason)).encode("latin-1")

    def sendall(self, data):
        pass

    def makefile(self, mode="rb", *args, **kwargs):
        import io

        return io.BytesIO(self._response)

    def settimeout(self, t):
        pass

    def setsockopt(self, *args):
        pass

    def close(self):
        pass


_real_connect = http.client.HTTPConnection.connect
_real_https_connect = http.client.HTTPSConnection.connect


def _outside(conn):
    answer = _network.get(str(conn.host).lower(), "unreachable")
    if answer == "unreachable":
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    # The host's latency is the invocation's time (its own clock), past its timeout a timeout.
    store = _store()
    latency = float(answer.get("latencyMs") or 0)
    if store is not None and latency > 0:
        store["offset"] += latency
        _check_deadline(store)
    conn.sock = _FakeSocket(int(answer["status"]))


def _lab_connect(self):
    if _is_loopback(self.host):
        return _real_connect(self)
    return _outside(self)


def _lab_https_connect(self):
    if _is_loopback(self.host):
        return _real_https_connect(self)
    return _outside(self)


http.client.HTTPConnection.connect = _lab_connect
http.client.HTTPSConnection.connect = _lab_https_connect

_real_putrequest = http.client.HTTPConnection.putrequest
_real_getresponse = http.client.HTTPConnection.getresponse


def _lab_putrequest(self, *args, **kwargs):
    _real_putrequest(self, *args, **kwargs)
    store = _store()
    if store is not None and _is_loopback(self.host):
        self.putheader("x-lab-caller-now", str(_now_ms()))
        self._lab_start_offset = store["offset"]


def _lab_getresponse(self, *args, **kwargs):
    response = _real_getresponse(self, *args, **kwargs)
    store = _store()
    start = getattr(self, "_lab_start_offset", None)
    if store is not None and start is not None:
        self._lab_start_offset = None
        try:
            elapsed = float(response.getheader("x-lab-elapsed-ms") or 0)
        except ValueError:
            elapsed = 0
        if elapsed > 0:
            store["offset"] = max(store["offset"], start + elapsed)
        _check_deadline(store)
    return response


http.client.HTTPConnection.putrequest = _lab_putrequest
http.client.HTTPConnection.getresponse = _lab_getresponse


# The handler, imported once (Lambda's init phase), with the runtime's fault types for a handler
# that cannot be loaded. https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html
_handler = None
_init_error = None


def _fault(error_type, message):
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": []}


# How long the code's last import took, wall ms: a cold start's Init Duration when the version
# models no init of its own (index.ts).
_load_ms = [None]


def _load():
    started = _real_monotonic()
    try:
        _import_handler()
    finally:
        _load_ms[0] = (_real_monotonic() - started) * 1000


def _import_handler():
    global _handler, _init_error
    _handler, _init_error = None, None
    spec = os.environ["_HANDLER"]
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        _init_error = _fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, e))
        return
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        _init_error = _fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
        return
    except SyntaxError as e:
        _init_error = _fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e))
        return
    except Exception as e:
        _init_error = _error_payload(e, "")
        return
    handler = getattr(module, fname, None)
    if handler is None:
        _init_error = _fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
        return
    _handler = handler


def _error_payload(exc, request_id):
    # The trace starts at the function's own code, without the runtime's frames.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    # The code's folder shows as Lambda's /var/task, not the lab host's folder.
    root = os.environ.get("LAMBDA_TASK_ROOT", "")
    for f in frames:
        if root and f.filename.startswith(root + os.sep):
            f.filename = "/var/task" + f.filename[len(root):]
    return {"errorMessage": str(exc), "errorType": type(exc).__name__, "requestId": request_id, "stackTrace": traceback.format_list(frames)}


def _reinit():
    # A new execution environment after a failed init: the code loads afresh.
    root = os.environ["LAMBDA_TASK_ROOT"]
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(root + os.sep):
            del sys.modules[name]
    importlib.invalidate_caches()
    _load()


class LambdaContext:
    """The context object. https://docs.aws.amazon.com/lambda/latest/dg/python-context.html"""

    def __init__(self, message, remaining):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = message["arn"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = message["requestId"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._remaining = remaining

    def get_remaining_time_in_millis(self):
        return int(self._remaining())


def _invoke(message, wall_clock, timeout_ms):
    global _network
    _network = message.get("network") or {}
    base = float(message.get("startOffset") or 0)
    replied = []

    def reply(body):
        if replied:
            return
        replied.append(True)
        # Every line the invocation printed is written before this marker (index.ts waits for it).
        for stream in (sys.stdout, sys.stderr):
            stream.write("\u0000canary-watchdog-lab:done %d\n" % message["id"])
            stream.flush()
        _send(dict(body, type="result", id=message["id"], loadMs=_load_ms[0], memoryBytes=_peak_memory()))

    started = _lab_clock_ms() + base
    wall_started = _real_monotonic()

    def elapsed():
        # As worker.js: virtual sleeps and calls, plus on a real clock the code's own compute at
        # wall-clock speed (a sped-up clock speeds up the world, not the function's code).
        if wall_clock:
            return store["offset"] - base + (_real_monotonic() - wall_started) * 1000
        return _now_ms() - started

    def timed_out():
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
        at = _datetime.datetime.fromtimestamp((started + timeout_ms) / 1000, _datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        reply({"ok": False, "timedOut": True, "durationMs": timeout_ms, "payload": {"errorType": "Sandbox.Timedout", "errorMessage": "%s %s Task timed out after %.2f seconds" % (at, message["requestId"], timeout_ms / 1000)}})

    store = {"offset": base, "base": base, "timeout_ms": timeout_ms, "timed_out": timed_out}
    _local.store = store
    try:
        if _init_error is not None:
            return reply({"ok": False, "init": True, "payload": _init_error, "durationMs": 1})
        try:
            result = _handler(message["event"], LambdaContext(message, lambda: max(0, timeout_ms - elapsed())))
            try:
                body = {"ok": True, "payload": json.loads(json.dumps(result))}
            except (TypeError, ValueError) as e:
                body = {"ok": False, "payload": {"errorMessage": "Unable to marshal response: %s" % e, "errorType": "Runtime.MarshalError", "requestId": message["requestId"], "stackTrace": []}}
        except _Timedout:
            return
        except Exception as e:
            body = {"ok": False, "payload": _error_payload(e, message["requestId"])}
        duration = elapsed()
        if duration > timeout_ms:
            return timed_out()
        reply(dict(body, durationMs=duration))
    except _Timedout:
        return
    finally:
        _local.store = None
        sys.stdout.flush()
        sys.stderr.flush()


_loaded = threading.Event()


def _load_then_signal(reload):
    try:
        _reinit() if reload else _load()
    finally:
        _loaded.set()


def main():
    settings = json.loads(sys.argv[1])
    root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, root)
    os.chdir(root)
    # The init phase runs beside the reader below: code that reads the clock while it loads is
    # answered, and invocations wait for it to end.
    threading.Thread(target=_load_then_signal, args=(False,), daemon=True).start()
    buffered = b""
    while True:
        chunk = _lab_in.read(65536)
        if not chunk:
            os._exit(0)
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            message = json.loads(line)
            kind = message.get("type")
            if kind == "clock":
                slot = _clock_waiters.pop(message["id"], None)
                if slot is not None:
                    slot["value"] = message["now"]
                    slot["event"].set()
            elif kind == "invoke":
                threading.Thread(target=_invoke_when_loaded, args=(message, settings["wallClock"], settings["timeoutMs"]), daemon=True).start()
            elif kind == "reinit":
                _loaded.clear()
                threading.Thread(target=_load_then_signal, args=(True,), daemon=True).start()


def _invoke_when_loaded(message, wall_clock, timeout_ms):
    _loaded.wait()
    _invoke(message, wall_clock, timeout_ms)


if __name__ == "__main__":
    main()
