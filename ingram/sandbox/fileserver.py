"""The sandbox's price file server: FTP (pyftpdlib) and SFTP (paramiko's server side).

Both serve one read-only folder holding the price file, on loopback, behind a user
and password, as Ingram does. ``drop_after`` cuts the first download after that many
bytes (the connection closes mid-file), to show that a client resumes. pyftpdlib and
paramiko are imported only when a server starts (the test extra brings both).

Example::

    with PriceFileServer(folder, user="sandbox-ftp", password="sandbox-ftp-secret") as files:
        print(files.ftp_url("PRICE.ZIP"), files.known_hosts_line)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .pricefile import FileLayout, PriceFileOptions, write_price_file
from .settings import SandboxSettings


class PriceFileServer:
    """FTP and/or SFTP on free loopback ports (``ftp_port``/``sftp_port`` 0), serving ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        user: str,
        password: str,
        host: str = "127.0.0.1",
        ftp_port: int | None = 0,
        sftp_port: int | None = 0,
        drop_after: int | None = None,
        tls_cert: Path | None = None,
    ) -> None:
        self.folder = folder
        self.user = user
        self.password = password
        self.host = host
        self.wanted = (ftp_port, sftp_port)
        self.drop_after = drop_after
        self.tls_cert = tls_cert  # a PEM holding certificate and key: FTP becomes FTPS
        self.dropped = threading.Event()  # set once a download was cut
        self.ftp_port: int | None = None
        self.sftp_port: int | None = None
        self.host_key: Any = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._closers: list[Any] = []
        self.transports: list[Any] = []  # SSH sessions, cut together by ``drop_after``

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> PriceFileServer:
        ftp_port, sftp_port = self.wanted
        if ftp_port is not None:
            self._start_ftp(ftp_port)
        if sftp_port is not None:
            self._start_sftp(sftp_port)
        return self

    def stop(self) -> None:
        self._stop.set()
        for close in self._closers:
            with contextlib.suppress(OSError):
                close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> PriceFileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ftp_url(self, name: str) -> str:
        scheme = "ftps" if self.tls_cert else "ftp"
        return f"{scheme}://{self.host}:{self.ftp_port}/{name}"

    def sftp_url(self, name: str) -> str:
        return f"sftp://{self.host}:{self.sftp_port}/{name}"

    @property
    def known_hosts_line(self) -> str:
        """The ``~/.ssh/known_hosts`` line that makes a client trust this SFTP server."""
        key = self.host_key
        return f"[{self.host}]:{self.sftp_port} {key.get_name()} {key.get_base64()}"

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- FTP ----------------------------------------------------------------------

    def _start_ftp(self, port: int) -> None:
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)  # a line per command otherwise
        # an event loop of its own: pyftpdlib's default one is shared by the whole process
        server = FTPServer((self.host, port), ftp_handler(self), ioloop=IOLoop())
        self.ftp_port = int(server.address[1])

        def serve() -> None:
            while not self._stop.is_set():  # the loop itself: serve_forever logs every call
                try:
                    server.ioloop.loop(timeout=0.05, blocking=False)
                except Exception:  # a cut connection's leftovers: the server goes on
                    logging.getLogger("ingram.sandbox").debug("FTP loop", exc_info=True)
            server.close_all()

        self._spawn(serve, f"sandbox-ftp-{self.ftp_port}")

    # -- SFTP ---------------------------------------------------------------------

    def _start_sftp(self, port: int) -> None:
        import paramiko

        self.host_key = paramiko.ECDSAKey.generate()
        listener = socket.create_server((self.host, port))
        listener.settimeout(0.1)
        self.sftp_port = int(listener.getsockname()[1])
        self._closers.append(listener.close)

        def accept() -> None:
            while not self._stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                self._serve_sftp(paramiko, connection)

        self._spawn(accept, f"sandbox-sftp-{self.sftp_port}")

    def _serve_sftp(self, paramiko: Any, connection: socket.socket) -> None:
        transport = paramiko.Transport(connection)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, sftp_interface(paramiko, self))
        self._closers.append(transport.close)
        self.transports.append(transport)
        with contextlib.suppress(paramiko.SSHException, OSError, EOFError):
            transport.start_server(server=ssh_server(paramiko, self.user, self.password))


def ftp_handler(files: PriceFileServer) -> Any:
    """pyftpdlib's handler class for ``files``: its login, read-only folder, TLS, cut."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import DTPHandler, FTPHandler

    if files.tls_cert:  # pyftpdlib's TLS needs pyOpenSSL: imported only for FTPS
        from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

        FTPHandler, DTPHandler = TLS_FTPHandler, TLS_DTPHandler  # noqa: N806
    authorizer = DummyAuthorizer()
    authorizer.add_user(files.user, files.password, str(files.folder), perm="elr")

    class CuttingDTP(DTPHandler):
        """Closes the first download's data connection after ``drop_after`` bytes."""

        sent = 0

        def send(self, data: bytes) -> int:
            limit = files.drop_after
            if limit is not None and not files.dropped.is_set():
                if self.sent + len(data) > limit:
                    files.dropped.set()
                    self.handle_close()  # closes the data channel, answers 426 aborted
                    return 0
                self.sent += len(data)
            return int(super().send(data))

    tls = {"certfile": str(files.tls_cert), "tls_control_required": True,
           "tls_data_required": True} if files.tls_cert else {}  # fmt: skip
    return type(
        "SandboxFTPHandler",
        (FTPHandler,),
        {
            **tls,
            "authorizer": authorizer,
            "dtp_handler": CuttingDTP,
            "banner": "sandbox price files",
            "use_sendfile": False,  # every byte through ``send``, so it can be cut
            "auth_failed_timeout": 0.1,  # pyftpdlib waits 3 s: tests need not
        },
    )


def ssh_server(paramiko: Any, user: str, password: str) -> Any:
    class Server(paramiko.ServerInterface):
        def get_allowed_auths(self, username: str) -> str:
            return "password"

        def check_auth_password(self, username: str, given: str) -> int:
            ok = username == user and given == password
            return int(paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED)

        def check_channel_request(self, kind: str, chanid: int) -> int:
            if kind == "session":
                return int(paramiko.OPEN_SUCCEEDED)
            return int(paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED)

    return Server()


def sftp_interface(paramiko: Any, files: PriceFileServer) -> Any:
    """A read-only SFTP view of the served folder (paths outside it are refused)."""

    def local(path: str) -> Path:
        target = (files.folder / path.lstrip("/")).resolve()
        if files.folder.resolve() not in (target, *target.parents):
            raise PermissionError(path)
        return target

    class Handle(paramiko.SFTPHandle):
        def read(self, offset: int, length: int) -> Any:
            limit = files.drop_after
            if limit is not None and not files.dropped.is_set() and offset + length > limit:
                files.dropped.set()
                for transport in files.transports:  # a cut line: the session is gone
                    with contextlib.suppress(Exception):
                        transport.close()
                return paramiko.SFTP_FAILURE
            return super().read(offset, length)

    class Interface(paramiko.SFTPServerInterface):
        def stat(self, path: str) -> Any:
            try:
                return paramiko.SFTPAttributes.from_stat(os.stat(local(path)))
            except OSError as error:
                return paramiko.SFTPServer.convert_errno(error.errno or 2)

        lstat = stat

        def open(self, path: str, flags: int, attr: Any) -> Any:
            if flags & (os.O_WRONLY | os.O_RDWR):
                return paramiko.SFTP_PERMISSION_DENIED
            try:
                handle = Handle(flags)
                handle.readfile = local(path).open("rb")
                handle.filename = str(local(path))
                return handle
            except OSError as error:
                return paramiko.SFTPServer.convert_errno(error.errno or 2)

        def list_folder(self, path: str) -> Any:
            folder = local(path)
            return [
                paramiko.SFTPAttributes.from_stat(entry.stat(), entry.name)
                for entry in folder.iterdir()
            ]

    return Interface


def start_price_files(
    catalog: Catalog, settings: SandboxSettings, folder: Path
) -> PriceFileServer | None:
    """The price file written into ``folder`` and served as the settings ask; None if not."""
    if settings.ftp_port is None and settings.sftp_port is None:
        return None
    options = PriceFileOptions(
        layout=FileLayout(settings.price_file_layout),
        changes_only=settings.price_file_changes,
        foreign=settings.price_file_foreign,
        truncated=settings.price_file_truncated,
    )
    write_price_file(catalog, folder, options)
    files = PriceFileServer(
        folder,
        user=settings.ftp_user,
        password=settings.ftp_password,
        host=settings.host,
        ftp_port=settings.ftp_port,
        sftp_port=settings.sftp_port,
    )
    return files.start()


def price_file_lines(files: PriceFileServer) -> list[str]:
    """What ``ingram-sync sandbox`` prints about the price file it serves."""
    name = next((p.name for p in files.folder.iterdir() if p.is_file()), "PRICE.ZIP")
    lines = [f"Price file on {url}" for url in (
        files.ftp_url(name) if files.ftp_port else None,
        files.sftp_url(name) if files.sftp_port else None,
    ) if url]  # fmt: skip
    lines += [
        "Load it from another terminal:",
        f"  export INGRAM_FTP_USER={files.user}",
        f"  export INGRAM_FTP_PASSWORD={files.password}",
    ]
    if files.sftp_port:
        lines.append(f"  echo '{files.known_hosts_line}' >> ~/.ssh/known_hosts")
    return lines


def add_price_file_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's price file options (defaults as ``SandboxSettings``'s)."""
    d = SandboxSettings()
    parser.add_argument("--ftp-port", type=int, help="serve the price file over FTP (0: free)")
    parser.add_argument("--sftp-port", type=int, help="serve the price file over SFTP (0: free)")
    parser.add_argument("--ftp-user", default=d.ftp_user, help="the price file's login")
    parser.add_argument("--ftp-password", default=d.ftp_password, help="its password")
    parser.add_argument(
        "--price-file-layout", choices=[layout.value for layout in FileLayout],
        default=d.price_file_layout, help="us: PRICE.ZIP; europe: PRICE.CSV",
    )  # fmt: skip
    parser.add_argument(
        "--price-file-changes", action="store_true", help="a file of A/C/D changes only"
    )
    parser.add_argument(
        "--price-file-foreign", action="store_true", help="a layout no importer knows"
    )
    parser.add_argument("--price-file-truncated", action="store_true", help="a ZIP cut short")
