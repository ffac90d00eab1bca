//! `multipart/form-data` request bodies (RFC 7578; aiohttp's `FormData`):
//! text fields and files, encoded whole into one body with a random boundary
//! that appears nowhere in the parts.
//!
//! Not here: streaming a part from a file or a reader (a part is bytes in
//! memory), or parsing multipart bodies (that is a server's job).

use std::fmt;

use bytes::Bytes;
use http::HeaderValue;

use super::error::{Error, ErrorKind};

/// A `multipart/form-data` body: fields and files, in the order added. Sent
/// with [`RequestBuilder::multipart`](super::RequestBuilder::multipart).
///
/// ```
/// use ferrio::http::multipart::{Form, Part};
/// let form = Form::new()
///     .text("title", "holiday")
///     .part("photo", Part::bytes(vec![0xff, 0xd8, 0xff]).file_name("beach.jpg").mime("image/jpeg"));
/// # drop(form);
/// ```
#[derive(Default)]
pub struct Form {
    parts: Vec<(String, Part)>,
}

/// One part of a [`Form`]: its content, and optionally a file name and a
/// content type.
pub struct Part {
    data: Bytes,
    file_name: Option<String>,
    mime: Option<String>,
}

impl Form {
    /// An empty form.
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds a text field.
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Form {
        self.part(name, Part::text(value))
    }

    /// Adds a file field: `data` with a file name (and
    /// `application/octet-stream` unless [`Part::mime`] says otherwise).
    pub fn file(
        self,
        name: impl Into<String>,
        file_name: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Form {
        self.part(name, Part::bytes(data).file_name(file_name))
    }

    /// Adds any part.
    pub fn part(mut self, name: impl Into<String>, part: Part) -> Form {
        self.parts.push((name.into(), part));
        self
    }

    /// The body and its `Content-Type` (with the boundary).
    pub(crate) fn encode(&self) -> Result<(Bytes, HeaderValue), Error> {
        // A boundary of 32 random letters and digits is all but certain not
        // to be in the parts; it is checked anyway, and a new one drawn if it is.
        let boundary = loop {
            let candidate: String = std::iter::repeat_with(fastrand::alphanumeric)
                .take(32)
                .collect();
            let candidate = format!("ferrio-{candidate}");
            let clash = self
                .parts
                .iter()
                .any(|(_, part)| contains(&part.data, candidate.as_bytes()));
            if !clash {
                break candidate;
            }
        };
        let mut out = Vec::with_capacity(
            self.parts
                .iter()
                .map(|(name, p)| p.data.len() + name.len() + 128)
                .sum(),
        );
        for (name, part) in &self.parts {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!("form-data; name=\"{}\"", escape(name));
            if let Some(file_name) = &part.file_name {
                disposition.push_str(&format!("; filename=\"{}\"", escape(file_name)));
            }
            out.extend_from_slice(format!("content-disposition: {disposition}\r\n").as_bytes());
            let mime = match (&part.mime, &part.file_name) {
                (Some(mime), _) => Some(mime.as_str()),
                (None, Some(_)) => Some("application/octet-stream"),
                (None, None) => None,
            };
            if let Some(mime) = mime {
                if mime.bytes().any(|b| b.is_ascii_control()) {
                    return Err(Error::new(
                        ErrorKind::InvalidRequest,
                        format!("invalid content type {mime:?} for part {name:?}"),
                    ));
                }
                out.extend_from_slice(format!("content-type: {mime}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&part.data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let content_type =
            HeaderValue::from_str(&content_type).expect("the boundary is letters and digits");
        Ok((Bytes::from(out), content_type))
    }
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.parts.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Part {
    /// A text part.
    pub fn text(value: impl Into<String>) -> Part {
        Part::bytes(value.into())
    }

    /// A part of any bytes.
    pub fn bytes(data: impl Into<Bytes>) -> Part {
        Part {
            data: data.into(),
            file_name: None,
            mime: None,
        }
    }

    /// The file name sent with the part (which makes it a file upload).
    pub fn file_name(mut self, name: impl Into<String>) -> Part {
        self.file_name = Some(name.into());
        self
    }

    /// The part's `Content-Type`, such as `image/png`. One with control
    /// characters fails the request at [`send`](super::RequestBuilder::send).
    pub fn mime(mut self, mime: impl Into<String>) -> Part {
        self.mime = Some(mime.into());
        self
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("len", &self.data.len())
            .field("file_name", &self.file_name)
            .field("mime", &self.mime)
            .finish()
    }
}

/// A name or file name made safe inside a quoted parameter, as browsers do
/// (the HTML standard's form-data encoding): `"`, CR and LF percent-encoded;
/// and so are the other control characters but tab (NUL, ESC, DEL, ...),
/// which a header field may not hold (RFC 9110, 5.5), so that the part's
/// head stays one a server can parse.
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' => out.push_str("%22"),
            '\t' => out.push(c),
            c if c.is_ascii_control() => out.push_str(&format!("%{:02X}", c as u8)),
            c => out.push(c),
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_by_the_boundary_in_order() {
        let form = Form::new().text("a", "1").file("f", "x.txt", &b"hello"[..]);
        let (body, content_type) = form.encode().unwrap();
        let content_type = content_type.to_str().unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let expected = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
             --{boundary}\r\ncontent-disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\
             content-type: application/octet-stream\r\n\r\nhello\r\n--{boundary}--\r\n"
        );
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
    }

    #[test]
    fn names_cannot_break_out_of_their_quotes() {
        assert_eq!(escape("a\"b\r\nc"), "a%22b%0D%0Ac");
        let form = Form::new().part("p", Part::text("x").mime("text/plain\r\nx-evil: 1"));
        assert_eq!(form.encode().unwrap_err().kind(), ErrorKind::InvalidRequest);
    }
}
