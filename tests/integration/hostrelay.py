"""A second hypervisor URI for the host tests until a second libvirtd is
at hand: a TCP relay on 127.0.0.1 to the local libvirtd's Unix socket, so
qemu+tcp://127.0.0.1:PORT/system is a remote host that answers while the
relay runs and stops answering (connections cut, connects refused) when it
stops. libvirtd sees the relay's connections as local ones of this process.
"""
import os
import socket
import threading

LIBVIRT_SOCK = "/run/libvirt/libvirt-sock"


class LibvirtRelay:
    def __init__(self, port, target=LIBVIRT_SOCK):
        self.port = port
        self.target = target
        self.uri = f"qemu+tcp://127.0.0.1:{port}/system"
        self.listener = None
        self.conns = []
        self.lock = threading.Lock()

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(8)
        self.listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()
        return self

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if listener is not self.listener:
                client.close()
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        """Refuses new connections and cuts the open ones."""
        if self.listener:
            # shutdown, not only close: a thread blocked in accept() would
            # go on accepting on a closed socket
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()


def available():
    return os.path.exists(LIBVIRT_SOCK)
