"""Fetching the price file from Ingram's server: FTP or FTPS (``ftplib``), SFTP (paramiko).

A download goes to ``NAME.part`` in a private folder beside the database, with a
note of the server's size and time for that file. A dropped connection is retried
from where it stopped (FTP ``REST``, an SFTP read offset); the next ``catalog load``
resumes it too, unless the server's file changed, when it starts again. Only a
file whose size is the server's is renamed to ``NAME`` and handed to the loader,
with the server's time as its own (the file's date).

Example::

    path = fetch(parse_source("ftp://ftp.example.com/PRICE.ZIP"), Login("me", "pw"), folder)
"""

from __future__ import annotations

import ftplib
import json
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from ingram.errors import ConfigError, DownloadFailed, InputError, LoginRefused

SCHEMES = {"ftp": 21, "ftps": 21, "sftp": 22}
CHUNK = 256 * 1024
RETRY_PAUSES = (0.5, 2.0, 5.0)


@dataclass(frozen=True)
class Login:
    """The price file's login (``ftp_user``, ``ftp_password``, ``ftp_ssh_key``)."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    key_file: str | None = None


@dataclass(frozen=True)
class Remote:
    scheme: str
    host: str
    port: int
    path: str
    user: str | None = None

    @property
    def label(self) -> str:
        """The source as shown and recorded: no user, never a password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


def parse_source(text: str) -> Remote | None:
    """The server a ``ftp://``, ``ftps://`` or ``sftp://`` source names; None for a path."""
    if "://" not in text:
        return None
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InputError(
            f"{scheme}:// is not a price file source: use a path, ftp://, ftps:// or sftp://"
        )
    if parts.password is not None:
        raise InputError(
            "put the FTP password in INGRAM_FTP_PASSWORD (or ftp_password in the config),"
            " not in the URL: a URL shows in process lists and shell history"
        )
    path = unquote(parts.path)
    if not parts.hostname or not PurePosixPath(path).name:
        raise InputError(f"{text!r} names no host and file, e.g. ftp://ftp.example.com/PRICE.ZIP")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise InputError(f"{text!r} has a port that is not a number") from None
    return Remote(scheme, parts.hostname, port, path, unquote(parts.username or "") or None)


def fetch(remote: Remote, login: Login, folder: Path, timeout: float = 30.0) -> Path:
    """Download ``remote`` whole into ``folder``; the path of the finished file."""
    login = Login(remote.user or login.user, login.password, login.key_file)
    if not login.user:
        raise ConfigError(
            f"no login for {remote.label}: set INGRAM_FTP_USER and INGRAM_FTP_PASSWORD"
            " (or ftp_user and ftp_password in the config file)"
        )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    download = sftp_download if remote.scheme == "sftp" else ftp_download
    part = folder / f"{remote.name}.part"
    for attempt, pause in enumerate((*RETRY_PAUSES, None)):
        try:
            size, mtime = download(remote, login, part, timeout)
            break
        except (OSError, EOFError, ftplib.error_temp, ftplib.error_reply) as error:
            if pause is None:
                raise DownloadFailed(
                    f"cannot fetch {remote.label} whole after {attempt + 1} attempts ({error});"
                    " what arrived is kept: the next `catalog load` resumes it"
                ) from None
            time.sleep(pause)
    final = folder / remote.name
    os.replace(part, final)
    part.with_suffix(".part.json").unlink(missing_ok=True)
    os.utime(final, (mtime, mtime))
    return final


def resume_offset(part: Path, size: int, mtime: float) -> int:
    """Bytes of ``part`` to keep: all when it is the start of this same server file."""
    note = part.with_suffix(".part.json")
    try:
        seen = json.loads(note.read_text())
        kept = part.stat().st_size
    except (OSError, ValueError):
        seen, kept = None, 0
    if seen != {"size": size, "mtime": mtime} or kept > size:
        part.unlink(missing_ok=True)
        kept = 0
    note.write_text(json.dumps({"size": size, "mtime": mtime}))
    return kept


def receive(part: Path, offset: int, size: int, copy: Callable[[IO[bytes]], None]) -> None:
    """Append to ``part`` from ``offset``; an answer shorter than ``size`` is an error."""
    with part.open("ab" if offset else "wb") as out:
        os.chmod(part, 0o600)
        copy(out)
    got = part.stat().st_size
    if got != size:
        raise EOFError(f"{got} of {size} bytes arrived")


# -- FTP and FTPS -------------------------------------------------------------


def ftp_download(remote: Remote, login: Login, part: Path, timeout: float) -> tuple[int, float]:
    ftp = (
        ftplib.FTP_TLS(context=ssl.create_default_context())
        if remote.scheme == "ftps"
        else ftplib.FTP()
    )
    try:
        ftp.connect(remote.host, remote.port, timeout=timeout)
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.auth()
        try:
            ftp.login(login.user or "", login.password or "")
        except ftplib.error_perm as error:
            raise LoginRefused(
                f"{remote.label} refused the login of {login.user!r} ({str(error)[:80]}):"
                " check INGRAM_FTP_USER and INGRAM_FTP_PASSWORD"
            ) from None
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.voidcmd("TYPE I")
        size, mtime = ftp_facts(ftp, remote)
        offset = resume_offset(part, size, mtime)

        def copy(out: IO[bytes]) -> None:
            ftp.retrbinary(f"RETR {remote.path}", out.write, CHUNK, rest=offset or None)

        receive(part, offset, size, copy)
        return size, mtime
    except ssl.SSLError as error:
        raise DownloadFailed(f"TLS with {remote.label} failed: {error.reason or error}") from None
    finally:
        with_quiet_close(ftp)


def ftp_facts(ftp: ftplib.FTP, remote: Remote) -> tuple[int, float]:
    """The server's size and modification time (UTC) of the file."""
    try:
        size = ftp.size(remote.path)
        stamp = ftp.voidcmd(f"MDTM {remote.path}").split()[-1][:14]
    except ftplib.error_perm as error:
        raise InputError(
            f"{remote.label}: the server has no such file ({str(error)[:80]})"
        ) from None
    if size is None:
        raise DownloadFailed(f"{remote.label}: the server does not say the file's size")
    moment = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return size, moment.timestamp()


def with_quiet_close(ftp: ftplib.FTP) -> None:
    """QUIT, or just close: after a cut transfer ftplib may have dropped its socket."""
    try:
        ftp.quit()
    except (OSError, EOFError, ftplib.Error, AttributeError):
        ftp.close()


# -- SFTP ---------------------------------------------------------------------


def sftp_download(remote: Remote, login: Login, part: Path, timeout: float) -> tuple[int, float]:
    try:
        import paramiko
    except ImportError:
        raise ConfigError("sftp:// needs paramiko: pip install 'ingram-sync[sftp]'") from None
    sock = socket.create_connection((remote.host, remote.port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout)
        check_host_key(remote, transport.get_remote_server_key())
        authenticate(paramiko, transport, remote, login)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        sftp.get_channel().settimeout(timeout)  # type: ignore[union-attr]
        facts = sftp.stat(remote.path)
        size, mtime = int(facts.st_size or 0), float(facts.st_mtime or 0)
        offset = resume_offset(part, size, mtime)

        def copy(out: IO[bytes]) -> None:
            with sftp.open(remote.path, "rb") as source:
                source.seek(offset)
                while chunk := source.read(CHUNK):
                    out.write(chunk)

        receive(part, offset, size, copy)
        return size, mtime
    except paramiko.SSHException as error:
        raise OSError(f"SSH: {error}") from None
    finally:
        transport.close()


def check_host_key(remote: Remote, key: Any) -> None:
    """The server's key must be the one ``~/.ssh/known_hosts`` holds for it."""
    import paramiko

    known = paramiko.HostKeys()
    path = Path("~/.ssh/known_hosts").expanduser()
    if path.exists():
        known.load(str(path))
    name = remote.host if remote.port == 22 else f"[{remote.host}]:{remote.port}"
    expected = (known.lookup(name) or {}).get(key.get_name())
    if expected is None:
        raise ConfigError(
            f"{name}'s SSH host key is not in {path}: check it is Ingram's server, then add it"
            f" (ssh-keyscan -p {remote.port} {remote.host} >> {path}) and load again"
        )
    if expected != key:
        raise ConfigError(
            f"{name} answered with another SSH host key than {path} holds for it: this may be"
            " an attack; nothing was fetched"
        )


def authenticate(paramiko: Any, transport: Any, remote: Remote, login: Login) -> None:
    try:
        if login.key_file:
            key = paramiko.PKey.from_path(Path(login.key_file).expanduser(), login.password)
            transport.auth_publickey(login.user, key)
        else:
            transport.auth_password(login.user, login.password or "")
    except paramiko.AuthenticationException:
        raise LoginRefused(
            f"{remote.label} refused the login of {login.user!r}: check INGRAM_FTP_USER,"
            " INGRAM_FTP_PASSWORD or the SSH key (ftp_ssh_key)"
        ) from None
    except (OSError, ValueError, paramiko.SSHException) as error:
        if not login.key_file:
            raise
        raise ConfigError(f"cannot use the SSH key {login.key_file}: {error}") from None
