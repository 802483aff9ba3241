//! A borsh-compatible codec (the host uses the `borsh` crate; `tests/vectors.txt` pins both to the same
//! bytes). Integers little-endian, `bool` one byte (0 or 1, anything else rejected), `String` and `Vec<T>`
//! a `u32` length then the items, `Option<T>` a `0`/`1` tag then the value, fixed arrays and tuples their
//! items in order, structs their fields in declaration order (see [`crate::impl_codec!`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::convert::TryInto;
use core::fmt;

/// Why bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended early.
    UnexpectedEnd,
    /// Bytes were left after the value.
    TrailingBytes(usize),
    /// A `bool` or `Option` tag other than 0 or 1.
    InvalidTag(u8),
    /// A `String` that is not UTF-8.
    InvalidUtf8,
    /// A length that cannot fit the remaining input.
    InvalidLength(u32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd => f.write_str("unexpected end of input"),
            DecodeError::TrailingBytes(n) => write!(f, "{} trailing bytes", n),
            DecodeError::InvalidTag(t) => write!(f, "invalid tag {}", t),
            DecodeError::InvalidUtf8 => f.write_str("string is not UTF-8"),
            DecodeError::InvalidLength(n) => write!(f, "invalid length {}", n),
        }
    }
}

/// A value that can be written in the codec.
pub trait Encode {
    /// Appends the encoding to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A value that can be read from the codec.
pub trait Decode: Sized {
    /// Reads one value from the front of `input`, advancing it.
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError>;

    /// Reads exactly one value: trailing bytes are an error.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut input = bytes;
        let v = Self::decode_from(&mut input)?;
        if input.is_empty() {
            Ok(v)
        } else {
            Err(DecodeError::TrailingBytes(input.len()))
        }
    }
}

/// Takes `n` bytes from the front of `input`.
pub fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
    if input.len() < n {
        return Err(DecodeError::UnexpectedEnd);
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decode for $t {
            fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
                const N: usize = core::mem::size_of::<$t>();
                let b = take(input, N)?;
                let mut a = [0u8; N];
                a.copy_from_slice(b);
                Ok(<$t>::from_le_bytes(a))
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl Encode for bool {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}
impl Decode for bool {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match u8::decode_from(input)? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

impl Encode for () {
    fn encode_to(&self, _out: &mut Vec<u8>) {}
}
impl Decode for () {
    fn decode_from(_input: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(())
    }
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    (len as u32).encode_to(out);
}

impl Encode for str {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        out.extend_from_slice(self.as_bytes());
    }
}
impl Encode for String {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.as_str().encode_to(out);
    }
}
impl Decode for String {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let n = u32::decode_from(input)?;
        if n as usize > input.len() {
            return Err(DecodeError::InvalidLength(n));
        }
        let b = take(input, n as usize)?;
        core::str::from_utf8(b).map(String::from).map_err(|_| DecodeError::InvalidUtf8)
    }
}

impl<T: Encode> Encode for [T] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        encode_len(self.len(), out);
        for item in self {
            item.encode_to(out);
        }
    }
}
impl<T: Encode> Encode for Vec<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.as_slice().encode_to(out);
    }
}
impl<T: Decode> Decode for Vec<T> {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let n = u32::decode_from(input)?;
        // Every item takes at least one byte except zero-sized ones; cap the pre-allocation by the input.
        let mut v = Vec::with_capacity((n as usize).min(input.len()));
        for _ in 0..n {
            v.push(T::decode_from(input)?);
        }
        Ok(v)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode_to(out);
            }
        }
    }
}
impl<T: Decode> Decode for Option<T> {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match u8::decode_from(input)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode_from(input)?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

impl<T: Encode, const N: usize> Encode for [T; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        for item in self {
            item.encode_to(out);
        }
    }
}
impl<T: Decode, const N: usize> Decode for [T; N] {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let mut v = Vec::with_capacity(N);
        for _ in 0..N {
            v.push(T::decode_from(input)?);
        }
        match v.try_into() {
            Ok(a) => Ok(a),
            Err(_) => Err(DecodeError::UnexpectedEnd),
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out);
    }
}

macro_rules! tuple_codec {
    ($($n:ident),+) => {
        impl<$($n: Encode),+> Encode for ($($n,)+) {
            #[allow(non_snake_case)]
            fn encode_to(&self, out: &mut Vec<u8>) {
                let ($($n,)+) = self;
                $($n.encode_to(out);)+
            }
        }
        impl<$($n: Decode),+> Decode for ($($n,)+) {
            fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok(($($n::decode_from(input)?,)+))
            }
        }
    };
}
tuple_codec!(A);
tuple_codec!(A, B);
tuple_codec!(A, B, C);
tuple_codec!(A, B, C, D);
tuple_codec!(A, B, C, D, E);

/// Implements [`Encode`] and [`Decode`] for a struct with named fields, in field order (borsh's derive
/// order): `impl_codec!(Lot { owner, points, expires });`
#[macro_export]
macro_rules! impl_codec {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::codec::Encode for $t {
            fn encode_to(&self, out: &mut $crate::alloc::vec::Vec<u8>) {
                $( $crate::codec::Encode::encode_to(&self.$f, out); )*
            }
        }
        impl $crate::codec::Decode for $t {
            fn decode_from(input: &mut &[u8]) -> ::core::result::Result<Self, $crate::codec::DecodeError> {
                ::core::result::Result::Ok($t { $( $f: $crate::codec::Decode::decode_from(input)?, )* })
            }
        }
    };
}

/// Lower-case hex of `bytes` (test vectors, messages).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Bytes from hex (test vectors); `None` on bad input.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    fn nib(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2).map(|p| Some(nib(p[0])? << 4 | nib(p[1])?)).collect()
}
