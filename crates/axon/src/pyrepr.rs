//! Python `str()` / `repr()` rendering of serde values (spec §5).
//!
//! The body hash of a synapse hashes each hash field *as Python's `str()` renders the
//! model-dumped value*. This module reproduces that rendering for the value shapes a synapse can
//! carry: `None`, bools (`True`/`False`), integers, floats (Python's shortest round-trip `repr`:
//! `1.0`, `1e-05`, `0.1`, `1e+16`), strings (raw at the top level, quoted with Python's quote
//! choice and escapes inside containers), lists (`[a, b]`), tuples (`(a, b)`, `(a,)`) and dicts /
//! nested structs (`{'k': v}`, in field order).
//!
//! Limitation: Python's `str.isprintable()` depends on the full Unicode database; inside
//! containers this renderer escapes C0/C1 controls, DEL and the common non-printable blocks
//! (separators, format characters, private use, non-characters) but treats other code points as
//! printable, so an *unassigned* code point inside a list of strings may render differently.

use serde::ser::{self, Serialize};
use std::fmt::Write as _;

/// Error of the renderer (only raised by values serde cannot describe).
#[derive(Debug, thiserror::Error)]
#[error("cannot render value as Python str(): {0}")]
pub struct PyReprError(String);

impl PyReprError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        PyReprError(message.into())
    }
}

impl ser::Error for PyReprError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        PyReprError(msg.to_string())
    }
}

/// Python's `repr(float)` (also `str(float)`): shortest digits that round-trip, fixed notation
/// for decimal exponents -4 ..= 15 (with `.0` for integral values), otherwise scientific notation
/// with a signed exponent of at least two digits.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Rust's `{:e}` without precision prints the shortest round-trip digits: "-1.2345e-5".
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let ndigits = digits.len() as i32;
    let decpt = exp + 1; // position of the decimal point relative to the digit string
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if !(-4 < decpt && decpt <= 16) {
        out.push_str(&digits[..1]);
        if ndigits > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..(-decpt) {
            out.push('0');
        }
        out.push_str(&digits);
    } else if decpt >= ndigits {
        out.push_str(&digits);
        for _ in 0..(decpt - ndigits) {
            out.push('0');
        }
        out.push_str(".0");
    } else {
        let split = decpt as usize;
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
    out
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    !matches!(u,
        0x00..=0x1f | 0x7f..=0xa0 | 0xad
        | 0x0600..=0x0605 | 0x061c | 0x06dd | 0x070f | 0x0890..=0x0891 | 0x08e2
        | 0x1680 | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
        | 0x2066..=0x206f | 0x3000 | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb
        | 0xfffe..=0xffff | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3
        | 0x1d173..=0x1d17a | 0xe0001 | 0xe0020..=0xe007f | 0xf0000..=0x10ffff)
        && (u & 0xfffe) != 0xfffe
}

/// Python's `repr(str)`: single quotes unless the text contains `'` and no `"`, with Python's
/// escapes for backslash, the quote, `\t`, `\n`, `\r` and non-printable characters.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let u = c as u32;
                let _ = if u < 0x100 {
                    write!(out, "\\x{u:02x}")
                } else if u < 0x10000 {
                    write!(out, "\\u{u:04x}")
                } else {
                    write!(out, "\\U{u:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn py_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote as char);
    out
}

/// Renders `value` as Python's `str()` renders its model-dumped form.
pub fn py_str<T: Serialize + ?Sized>(value: &T) -> Result<String, PyReprError> {
    let mut out = String::new();
    value.serialize(PyWriter {
        out: &mut out,
        top: true,
    })?;
    Ok(out)
}

/// Renders `value` as Python's `repr()` (strings quoted).
pub fn py_repr<T: Serialize + ?Sized>(value: &T) -> Result<String, PyReprError> {
    let mut out = String::new();
    value.serialize(PyWriter {
        out: &mut out,
        top: false,
    })?;
    Ok(out)
}

/// The serde serializer writing Python text into a string.
struct PyWriter<'a> {
    out: &'a mut String,
    /// At the top level a string renders raw (`str(s) == s`); inside containers it is quoted.
    top: bool,
}

/// Serializer state of a container being written.
pub struct Compound<'a> {
    out: &'a mut String,
    first: bool,
    close: &'static str,
    /// Tuples of one element need a trailing comma, as Python writes `(x,)`.
    tuple_len: Option<usize>,
}

impl<'a> Compound<'a> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
    }
    fn nested(&mut self) -> PyWriter<'_> {
        PyWriter {
            out: self.out,
            top: false,
        }
    }
    fn finish(self) {
        if self.tuple_len == Some(1) {
            self.out.push(',');
        }
        self.out.push_str(self.close);
    }
}

macro_rules! int_methods {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> Result<(), PyReprError> {
            let _ = write!(self.out, "{v}");
            Ok(())
        }
    )*};
}

impl<'a> ser::Serializer for PyWriter<'a> {
    type Ok = ();
    type Error = PyReprError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    int_methods!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> Result<(), PyReprError> {
        self.out.push_str(if v { "True" } else { "False" });
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), PyReprError> {
        // A Rust f32 travels as its shortest decimal text; Python reads that text as a double.
        let as_f64: f64 = format!("{v}").parse().unwrap_or(v as f64);
        self.serialize_f64(as_f64)
    }
    fn serialize_f64(self, v: f64) -> Result<(), PyReprError> {
        self.out.push_str(&py_float_repr(v));
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), PyReprError> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }
    fn serialize_str(self, v: &str) -> Result<(), PyReprError> {
        if self.top {
            self.out.push_str(v);
        } else {
            self.out.push_str(&py_str_repr(v));
        }
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), PyReprError> {
        self.out.push_str(&py_bytes_repr(v));
        Ok(())
    }
    fn serialize_none(self) -> Result<(), PyReprError> {
        self.out.push_str("None");
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), PyReprError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), PyReprError> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), PyReprError> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), PyReprError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), PyReprError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), PyReprError> {
        self.out.push('{');
        self.out.push_str(&py_str_repr(variant));
        self.out.push_str(": ");
        value.serialize(PyWriter {
            out: self.out,
            top: false,
        })?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, PyReprError> {
        self.out.push('[');
        Ok(Compound {
            out: self.out,
            first: true,
            close: "]",
            tuple_len: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, PyReprError> {
        self.out.push('(');
        Ok(Compound {
            out: self.out,
            first: true,
            close: ")",
            tuple_len: Some(len),
        })
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, PyReprError> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, PyReprError> {
        self.out.push('{');
        self.out.push_str(&py_str_repr(variant));
        self.out.push_str(": [");
        Ok(Compound {
            out: self.out,
            first: true,
            close: "]}",
            tuple_len: None,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, PyReprError> {
        self.out.push('{');
        Ok(Compound {
            out: self.out,
            first: true,
            close: "}",
            tuple_len: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, PyReprError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, PyReprError> {
        self.out.push('{');
        self.out.push_str(&py_str_repr(variant));
        self.out.push_str(": {");
        Ok(Compound {
            out: self.out,
            first: true,
            close: "}}",
            tuple_len: None,
        })
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PyReprError> {
        self.sep();
        value.serialize(self.nested())
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PyReprError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PyReprError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PyReprError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PyReprError> {
        self.sep();
        key.serialize(self.nested())?;
        self.out.push_str(": ");
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PyReprError> {
        value.serialize(self.nested())
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PyReprError> {
        self.sep();
        self.out.push_str(&py_str_repr(key));
        self.out.push_str(": ");
        value.serialize(self.nested())
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PyReprError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), PyReprError> {
        self.finish();
        Ok(())
    }
}

/// Renders the named top-level fields of a struct with Python `str()`, in the order of `names`.
/// A field missing from the struct renders as `None`.
pub fn struct_field_strs<T: Serialize + ?Sized>(
    value: &T,
    names: &[&str],
) -> Result<Vec<String>, PyReprError> {
    let mut found: Vec<Option<String>> = vec![None; names.len()];
    value.serialize(FieldPicker {
        names,
        found: &mut found,
    })?;
    Ok(found
        .into_iter()
        .map(|f| f.unwrap_or_else(|| "None".to_string()))
        .collect())
}

/// A serializer accepting one struct (or map with string keys) and rendering chosen fields.
struct FieldPicker<'a> {
    names: &'a [&'a str],
    found: &'a mut Vec<Option<String>>,
}

/// State of a `FieldPicker` while walking a struct or map.
pub struct PickerState<'a> {
    names: &'a [&'a str],
    found: &'a mut Vec<Option<String>>,
    pending_key: Option<String>,
}

impl PickerState<'_> {
    fn take<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), PyReprError> {
        if let Some(i) = self.names.iter().position(|n| *n == key) {
            self.found[i] = Some(py_str(value)?);
        }
        Ok(())
    }
}

fn not_struct() -> PyReprError {
    PyReprError("synapse fields must serialize as a struct".to_string())
}

macro_rules! reject {
    ($($m:ident($($a:ty),*)),*) => {$(
        fn $m(self, $(_: $a),*) -> Result<(), PyReprError> { Err(not_struct()) }
    )*};
}

impl<'a> ser::Serializer for FieldPicker<'a> {
    type Ok = ();
    type Error = PyReprError;
    type SerializeSeq = ser::Impossible<(), PyReprError>;
    type SerializeTuple = ser::Impossible<(), PyReprError>;
    type SerializeTupleStruct = ser::Impossible<(), PyReprError>;
    type SerializeTupleVariant = ser::Impossible<(), PyReprError>;
    type SerializeMap = PickerState<'a>;
    type SerializeStruct = PickerState<'a>;
    type SerializeStructVariant = ser::Impossible<(), PyReprError>;

    reject!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str)
    );

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), PyReprError> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), PyReprError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), PyReprError> {
        Err(not_struct())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, PyReprError> {
        Err(not_struct())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, PyReprError> {
        Err(not_struct())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, PyReprError> {
        Err(not_struct())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, PyReprError> {
        Err(not_struct())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<PickerState<'a>, PyReprError> {
        Ok(PickerState {
            names: self.names,
            found: self.found,
            pending_key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<PickerState<'a>, PyReprError> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, PyReprError> {
        Err(not_struct())
    }
}

impl ser::SerializeMap for PickerState<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PyReprError> {
        self.pending_key = Some(py_str(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PyReprError> {
        let key = self.pending_key.take().unwrap_or_default();
        self.take(&key, value)
    }
    fn end(self) -> Result<(), PyReprError> {
        Ok(())
    }
}

impl ser::SerializeStruct for PickerState<'_> {
    type Ok = ();
    type Error = PyReprError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PyReprError> {
        self.take(key, value)
    }
    fn end(self) -> Result<(), PyReprError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn float_table() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (1e-5, "1e-05"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (12.0, "12.0"),
            (-2.5, "-2.5"),
            (1.5e300, "1.5e+300"),
            (0.00011944770812988281, "0.00011944770812988281"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(*x), *want, "{x:e}");
        }
    }

    #[test]
    fn containers_and_scalars() {
        assert_eq!(py_str(&21u32).unwrap(), "21");
        assert_eq!(py_str(&Option::<u32>::None).unwrap(), "None");
        assert_eq!(py_str(&true).unwrap(), "True");
        assert_eq!(py_str("hi there").unwrap(), "hi there");
        assert_eq!(
            py_str(&vec!["hello", "world"]).unwrap(),
            "['hello', 'world']"
        );
        assert_eq!(py_str(&vec![1.0, 2.5]).unwrap(), "[1.0, 2.5]");
        assert_eq!(py_str(&Vec::<f64>::new()).unwrap(), "[]");
        let mut m = BTreeMap::new();
        m.insert("a", Some(1.0));
        m.insert("b", None);
        assert_eq!(py_str(&m).unwrap(), "{'a': 1.0, 'b': None}");
        assert_eq!(py_str(&(1u8,)).unwrap(), "(1,)");
        assert_eq!(py_str(&vec!["it's"]).unwrap(), "[\"it's\"]");
        assert_eq!(py_str(&vec!["a'b\"c"]).unwrap(), "['a\\'b\"c']");
        assert_eq!(py_str(&vec!["t\tn\n\u{7}é"]).unwrap(), "['t\\tn\\n\\x07é']");
    }

    /// Tricky values plus a deterministic spread of bit patterns, rendered by python3 itself.
    #[test]
    fn float_repr_matches_python3() {
        let mut values: Vec<f64> = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            0.2,
            0.1 + 0.2,
            1e-5,
            1e-4,
            9.999e-5,
            1e16,
            1e15,
            9.999999999999998e15,
            1e17,
            123456789.0,
            5e-324,
            2.2250738585072014e-308,
            2.225073858507201e-308,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            -1.5,
            1.0 / 3.0,
            2.0f64.powi(53),
            2.0f64.powi(53) + 2.0,
            1e22,
            1e23,
            4.35,
            0.3,
            100.0,
            1e-7,
            12.0,
            -1e-300,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        while values.len() < 2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                values.push(f);
            }
            // also "human" decimals
            values.push((x % 1_000_000) as f64 / 1000.0);
        }
        let input: String = values
            .iter()
            .map(|v| format!("{:016x}\n", v.to_bits()))
            .collect();
        let script = "import sys,struct\nfor l in sys.stdin:\n l=l.strip()\n if l: print(repr(struct.unpack('>d', bytes.fromhex(l))[0]))";
        let child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            eprintln!("python3 not found: float_repr_matches_python3 skipped");
            return;
        };
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), values.len());
        for (v, want) in values.iter().zip(lines) {
            assert_eq!(py_float_repr(*v), want, "bits {:016x}", v.to_bits());
        }
    }

    /// Strings inside containers (quote choice, escapes, non-printables) as python3 renders them.
    #[test]
    fn string_repr_matches_python3() {
        let cases = [
            "plain",
            "it's",
            "say \"hi\"",
            "both ' and \"",
            "back\\slash",
            "tab\tnl\ncr\r",
            "\u{0}\u{1f}\u{7f}\u{80}\u{9f}\u{a0}\u{ad}",
            "é中😀",
            "\u{200b}\u{2028}\u{3000}\u{feff}",
            "\u{e000}\u{f0000}\u{1fffe}\u{61c}\u{180e}",
            "",
        ];
        let ours = py_str(&cases.to_vec()).unwrap();
        let json = serde_json::to_string(&cases.to_vec()).unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import json,sys; print(repr(json.loads(sys.argv[1])))",
                &json,
            ])
            .output();
        let Ok(out) = out else {
            eprintln!("python3 not found: string_repr_matches_python3 skipped");
            return;
        };
        assert!(out.status.success());
        assert_eq!(
            ours,
            String::from_utf8(out.stdout)
                .unwrap()
                .trim_end_matches('\n')
        );
    }

    proptest::proptest! {
        /// The rendering always parses back to the same double and follows Python's layout.
        #[test]
        fn float_repr_roundtrips(bits in proptest::prelude::any::<u64>()) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let r = py_float_repr(x);
            let back: f64 = r.parse().unwrap();
            proptest::prop_assert_eq!(back.to_bits(), x.to_bits());
            proptest::prop_assert!(r.contains('.') || r.contains('e'));
            if let Some((_, e)) = r.split_once('e') {
                proptest::prop_assert!(e.starts_with('+') || e.starts_with('-'));
                proptest::prop_assert!(e.len() >= 3);
            }
        }
    }
}
