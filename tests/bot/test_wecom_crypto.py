"""WXBizMsgCrypt: WeCom's official vectors exactly, round trips, and every tampering refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.wecom.crypto import (
    BadBase64,
    BadKey,
    BadLength,
    BadPadding,
    BadSignature,
    CryptoError,
    DecryptFailed,
    WrongReceiver,
    WXBizMsgCrypt,
)
from bot.wecom.mapping import parse_message
from tests.fakes.wecom_api import AES_KEY, CORP_ID, TOKEN, frame, padding, seal, sign

# The official vector of WeCom's sample code (../shared/CHANNELS.md).
V_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"  # noqa: S105  (the published test vector)
V_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
V_CORP = "ww1436e0e65a779aee"
V_ECHO = ("fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHy"
          "A==")
V_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAg"
    "GzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U"
    "+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR"
    "4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSD"
    "POYuPDGOCI8jmnKiypE+")
V_XML = ("<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
         "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
         "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>")

# The older official vector.
O_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3Qczcd"
    "CUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4X"
    "gpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+Kq"
    "CKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS"
    "9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZ"
    "Is2pDBS8R07+qN+E7Q==")

TS, NONCE = "1700000000", "123456"


@pytest.fixture
def crypto() -> WXBizMsgCrypt:
    return WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)


def signed(encrypt: str) -> str:
    return sign(TOKEN, TS, NONCE, encrypt)


# --- the official vectors -----------------------------------------------------------------

def test_official_url_check_answers_the_echo_plaintext() -> None:
    crypto = WXBizMsgCrypt(V_TOKEN, V_KEY, V_CORP)
    assert crypto.verify_url("012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373",
                             "47744683", V_ECHO) == "1288432023552776189"


def test_official_message_decrypts_to_the_exact_xml() -> None:
    crypto = WXBizMsgCrypt(V_TOKEN, V_KEY, V_CORP)
    assert crypto.signature("1476422779", "1597212914", V_ENCRYPT) == \
        "0c3914025cb4b4d68103f6bfc8db550f79dcf48e"
    assert crypto.decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779",
                                  "1597212914", V_ENCRYPT) == V_XML


def test_older_official_vector_decrypts_and_reads() -> None:
    crypto = WXBizMsgCrypt("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                           "wx5823bf96d3bd56c7")
    xml = crypto.decrypt_message("477715d11cdb4164915debcba66cb864d751f3e6", "1409659813",
                                 "1372623149", O_ENCRYPT)
    message = parse_message(xml)
    assert (message.to_user, message.from_user, message.create_time, message.msg_type,
            message.content, message.msg_id, message.agent_id) == (
        "wx5823bf96d3bd56c7", "mycreate", 1409659813, "text", "hello", "4561255354251345929",
        "218")
    assert xml.count("\n") == 7  # newline-separated, as the vector is


def test_the_official_vector_refuses_another_corp() -> None:
    crypto = WXBizMsgCrypt(V_TOKEN, V_KEY, "ww0000000000000000")
    with pytest.raises(WrongReceiver):
        crypto.decrypt(V_ENCRYPT)


# --- round trips ----------------------------------------------------------------------------

@given(st.text(max_size=3000))
@example("")
@example("你好，工地今天开工了 👷🏗️✅")
@example("x" * 12)  # 16 + 4 + 12 + 18-byte corpid = 50: padding of 14
@example("x" * 26)  # 64 bytes framed: a whole block of padding
def test_any_text_round_trips(text: str) -> None:
    crypto = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)
    encrypt, signature = crypto.encrypt_message(text, TS, NONCE)
    assert len(base64.b64decode(encrypt)) % 32 == 0
    assert crypto.decrypt_message(signature, TS, NONCE, encrypt) == text


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
               | st.sampled_from("😀🚧🏗️👷‍♀️📷"), min_size=1, max_size=800))
def test_chinese_and_emoji_round_trip_through_the_fakes_cipher(text: str) -> None:
    """Sealed by the fake's independent implementation, opened by ours, and back."""
    crypto = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)
    assert crypto.decrypt(seal(frame(text))) == text
    opened = base64.b64decode(crypto.encrypt(text))
    assert len(opened) % 32 == 0


def test_random_prefix_makes_each_encryption_different(crypto: WXBizMsgCrypt) -> None:
    assert crypto.encrypt("同一条消息") != crypto.encrypt("同一条消息")


# --- tampering ------------------------------------------------------------------------------

def test_a_wrong_signature_is_refused(crypto: WXBizMsgCrypt) -> None:
    encrypt = crypto.encrypt("<xml/>")
    with pytest.raises(BadSignature):
        crypto.decrypt_message("0" * 40, TS, NONCE, encrypt)
    with pytest.raises(BadSignature):  # signed with another Token
        crypto.decrypt_message(sign("other", TS, NONCE, encrypt), TS, NONCE, encrypt)
    with pytest.raises(BadSignature):  # the right signature for another timestamp
        crypto.decrypt_message(signed(encrypt), "1700000001", NONCE, encrypt)


@given(st.data())
def test_any_flipped_byte_breaks_the_signature(data: st.DataObject) -> None:
    crypto = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)
    encrypt = crypto.encrypt("<xml><Content>开工</Content></xml>")
    raw = bytearray(base64.b64decode(encrypt))
    position = data.draw(st.integers(0, len(raw) - 1))
    raw[position] ^= data.draw(st.integers(1, 255))
    forged = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(BadSignature):
        crypto.decrypt_message(signed(encrypt), TS, NONCE, forged)


@given(st.data())
def test_a_flipped_byte_in_the_last_block_fails_decryption_even_when_signed(
        data: st.DataObject) -> None:
    """Whoever holds the Token still cannot make a tampered ciphertext decrypt."""
    crypto = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)
    raw = bytearray(base64.b64decode(crypto.encrypt("一条消息")))
    raw[data.draw(st.integers(len(raw) - 16, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    forged = base64.b64encode(bytes(raw)).decode()
    with pytest.raises((DecryptFailed, WrongReceiver)):
        crypto.decrypt_message(signed(forged), TS, NONCE, forged)


@pytest.mark.parametrize("value", [0, 33, 255])
def test_a_padding_value_outside_1_to_32_is_refused(crypto: WXBizMsgCrypt, value: int) -> None:
    framed = frame("x" * 20)  # 58 bytes: 6 more make 64
    forged = seal(framed, pad=bytes([value]) * 6)
    with pytest.raises(BadPadding, match="outside"):
        crypto.decrypt_message(signed(forged), TS, NONCE, forged)


def test_padding_to_16_rather_than_32_is_refused(crypto: WXBizMsgCrypt) -> None:
    framed = frame("x" * 4)  # 42 bytes: PKCS#7 to 16 adds six sixes, 48: not whole 32s
    forged = seal(framed, pad=bytes([6]) * 6)
    with pytest.raises(BadLength):
        crypto.decrypt_message(signed(forged), TS, NONCE, forged)


def test_inconsistent_padding_is_refused(crypto: WXBizMsgCrypt) -> None:
    framed = frame("x" * 20)
    pad = bytearray(padding(len(framed)))  # six sixes
    pad[0] = 5
    forged = seal(framed, pad=bytes(pad))
    with pytest.raises(BadPadding, match="not all equal"):
        crypto.decrypt_message(signed(forged), TS, NONCE, forged)


def test_a_truncated_ciphertext_is_refused(crypto: WXBizMsgCrypt) -> None:
    raw = base64.b64decode(crypto.encrypt("<xml><Content>完整</Content></xml>"))
    for cut in (raw[:-16], raw[:-32], raw[:-1], b""):
        forged = base64.b64encode(cut).decode()
        with pytest.raises((BadLength, BadPadding)):
            crypto.decrypt_message(signed(forged), TS, NONCE, forged)


def test_a_length_field_past_the_end_is_refused(crypto: WXBizMsgCrypt) -> None:
    forged = seal(frame("short", length=5000))
    with pytest.raises(BadLength, match="past the end"):
        crypto.decrypt_message(signed(forged), TS, NONCE, forged)


def test_a_message_for_another_corp_is_refused(crypto: WXBizMsgCrypt) -> None:
    for receiver in ("ww_some_other_corp", "", CORP_ID + "x", CORP_ID[:-1]):
        forged = seal(frame("<xml/>", receiver))
        with pytest.raises(WrongReceiver):
            crypto.decrypt_message(signed(forged), TS, NONCE, forged)


@pytest.mark.parametrize("encrypt", ["%%%%", "abc", "5L2g5aW9\n5L2g", "你好你好", "YWJj ZA=="])
def test_bad_base64_is_refused(crypto: WXBizMsgCrypt, encrypt: str) -> None:
    with pytest.raises(BadBase64):
        crypto.decrypt_message(signed(encrypt), TS, NONCE, encrypt)


def test_invalid_utf8_inside_is_refused(crypto: WXBizMsgCrypt) -> None:
    raw = b"\xff\xfe\xfd"
    framed = bytes(16) + len(raw).to_bytes(4, "big") + raw + CORP_ID.encode()
    forged = seal(framed)
    with pytest.raises(DecryptFailed, match="UTF-8"):
        crypto.decrypt(forged)


@pytest.mark.parametrize("key", ["short", AES_KEY[:-1], AES_KEY[:-1] + "!", AES_KEY + "A"])
def test_a_bad_encoding_aes_key_is_refused_without_showing_it(key: str) -> None:
    with pytest.raises(BadKey) as raised:
        WXBizMsgCrypt(TOKEN, key, CORP_ID)
    assert key not in str(raised.value)


def test_errors_carry_the_official_codes() -> None:
    assert [e.code for e in (BadSignature(), WrongReceiver(), DecryptFailed(), BadPadding(),
                             BadBase64(), BadKey())] == [-40001, -40005, -40007, -40007,
                                                         -40010, -40004]
    assert issubclass(BadPadding, CryptoError)


def test_no_secret_in_repr_or_errors(crypto: WXBizMsgCrypt) -> None:
    assert TOKEN not in repr(crypto) and AES_KEY not in repr(crypto)
    messages = []
    for encrypt in ("%%%", seal(frame("x", "ww_other")), seal(frame("x" * 20), pad=bytes(6))):
        try:
            crypto.decrypt_message(signed(encrypt), TS, NONCE, encrypt)
        except CryptoError as exc:
            messages.append(str(exc))
    try:
        crypto.verify("0" * 40, TS, NONCE, "abc")
    except CryptoError as exc:
        messages.append(str(exc))
    assert len(messages) == 4
    assert not any(TOKEN in m or AES_KEY in m for m in messages)
