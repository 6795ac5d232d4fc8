"""WXBizMsgCrypt: the signature and AES envelope of WeCom's callbacks, on `cryptography`.

The scheme (WeCom's official sample, ../shared/CHANNELS.md): the AES-256 key is
base64(EncodingAESKey + "="), the IV its first 16 bytes; the plaintext is 16 random bytes, the
message's length (4 bytes, big-endian), the message and the receiver id (the corpid), padded
PKCS#7-style to a multiple of **32** bytes; `msg_signature` is the SHA-1 of the sorted
[token, timestamp, nonce, encrypt] joined.

CBC carries no integrity of its own: the signature is what authenticates a callback, so it is
checked (in constant time) before anything is decrypted, and decryption is strict anyway — any
padding but 1..32 equal bytes, a length past the end, or another receiver is refused. Errors
carry the official sample's codes and never a key, token or plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from typing import ClassVar

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
RANDOM_PREFIX = 16
LENGTH_FIELD = 4
KEY_CHARS = 43


class CryptoError(Exception):
    """A callback that cannot be trusted or read; `code` is the official sample's."""

    code: ClassVar[int] = -40000


class BadSignature(CryptoError):
    """msg_signature does not match: forged, or signed with another Token."""

    code = -40001


class BadXml(CryptoError):
    """The envelope or the decrypted message is not the XML WeCom sends."""

    code = -40002


class BadKey(CryptoError):
    """The EncodingAESKey is not 43 base64 characters making a 32-byte key."""

    code = -40004


class WrongReceiver(CryptoError):
    """The message was encrypted for another corp (receiveid is not our corpid)."""

    code = -40005


class DecryptFailed(CryptoError):
    """The ciphertext does not decrypt to a well-formed WeCom plaintext."""

    code = -40007


class BadPadding(DecryptFailed):
    """The padding is not 1..32 bytes all equal to their count."""


class BadLength(DecryptFailed):
    """Not whole 32-byte blocks (truncated), or a length field pointing past the end."""


class BadBase64(CryptoError):
    """The Encrypt field (or echostr) is not strict base64."""

    code = -40010


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of an EncodingAESKey; BadKey (without the key) if it is not one."""
    if len(encoding_aes_key) != KEY_CHARS:
        raise BadKey(f"the EncodingAESKey must be {KEY_CHARS} characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise BadKey("the EncodingAESKey is not base64") from None
    if len(key) != BLOCK:
        raise BadKey("the EncodingAESKey does not make a 32-byte key")
    return key


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    joined = "".join(sorted((token, timestamp, nonce, encrypt)))
    # SHA-1 is WeCom's choice, not ours: the protocol fixes it.
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324


def pad(data: bytes) -> bytes:
    count = BLOCK - len(data) % BLOCK  # 1..32: a whole block when already aligned
    return data + bytes([count]) * count


def unpad(data: bytes) -> bytes:
    """Strict PKCS#7 over 32-byte blocks: the last byte n is 1..32 and the last n all equal n."""
    count = data[-1]
    if not 1 <= count <= BLOCK:
        raise BadPadding(f"padding value {count} is outside 1..{BLOCK}")
    if data[-count:] != bytes([count]) * count:
        raise BadPadding("the padding bytes are not all equal")
    return data[:-count]


class WXBizMsgCrypt:
    """One app's callback crypto: its Token, EncodingAESKey and receiver id (the corpid)."""

    __slots__ = ("_cipher", "_random", "_receiver", "_token", "receive_id")

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str, *,
                 random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self._token = token
        key = aes_key(encoding_aes_key)
        # One Cipher makes a fresh encryptor or decryptor context per message.
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
        self.receive_id = receive_id
        self._receiver = receive_id.encode("utf-8")
        self._random = random_bytes

    def __repr__(self) -> str:  # never the Token or the key
        return f"WXBizMsgCrypt(receive_id={self.receive_id!r})"

    # --- signatures -----------------------------------------------------------------------

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self._token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        """BadSignature unless `msg_signature` signs the other three (constant-time compare)."""
        expected = self.signature(timestamp, nonce, encrypt).encode("ascii")
        if not hmac.compare_digest(expected, msg_signature.encode("utf-8")):
            raise BadSignature("msg_signature does not match")

    # --- the envelope ---------------------------------------------------------------------

    def decrypt(self, encrypt: str) -> str:
        """The message inside `encrypt` (signature NOT checked: see `decrypt_message`)."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except ValueError:
            raise BadBase64("not base64") from None
        if not data or len(data) % BLOCK:
            raise BadLength(f"{len(data)} bytes is not whole {BLOCK}-byte blocks")
        decryptor = self._cipher.decryptor()
        body = unpad(decryptor.update(data) + decryptor.finalize())
        start = RANDOM_PREFIX + LENGTH_FIELD
        if len(body) < start:
            raise BadLength("shorter than the random prefix and the length field")
        end = start + int.from_bytes(body[RANDOM_PREFIX:start], "big")
        if end > len(body):
            raise BadLength("the length field points past the end")
        receiver = body[end:]
        if not hmac.compare_digest(receiver, self._receiver):
            shown = receiver.decode("utf-8", "replace")[:64]
            raise WrongReceiver(f"encrypted for {shown!r}, not this corp")
        try:
            return body[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptFailed("the message is not UTF-8") from None

    def encrypt(self, message: str) -> str:
        raw = message.encode("utf-8")
        plain = (self._random(RANDOM_PREFIX) + len(raw).to_bytes(LENGTH_FIELD, "big") + raw
                 + self._receiver)
        encryptor = self._cipher.encryptor()
        sealed = encryptor.update(pad(plain)) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")

    # --- the two callback uses ------------------------------------------------------------

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL check (GET): the plaintext of `echostr`, to be answered as it is."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_message(self, msg_signature: str, timestamp: str, nonce: str,
                        encrypt: str) -> str:
        """A message callback (POST): verified, then decrypted to its XML."""
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def encrypt_message(self, message: str, timestamp: str, nonce: str) -> tuple[str, str]:
        """(Encrypt, msg_signature) for `message`: a passive reply, or a test's callback."""
        sealed = self.encrypt(message)
        return sealed, self.signature(timestamp, nonce, sealed)
