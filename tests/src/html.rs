//! Just enough HTML reading for the identity server's own pages: find forms, their action and
//! method, the fields a browser would submit, and the text of an element by id. The pages are
//! ours (`tests/idp/lib/views.mjs`) and oidc-provider's auto-submit form, so a full HTML parser
//! would be overkill.

/// A `<form>` as a browser would submit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The raw `action` attribute (relative URLs are resolved by the caller).
    pub action: Option<String>,
    /// `get` or `post`, lower case.
    pub method: String,
    /// Successful controls in document order: named inputs (checkboxes and radios only when
    /// checked) and, as if it were clicked, the first named submit button.
    pub fields: Vec<(String, String)>,
}

impl Form {
    /// Whether the form asks for a password (the login form).
    pub fn has_field(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }
}

/// All forms of a page, in document order.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = find_tag(&lower, "form", from) {
        let Some((attrs, open_end)) = start_tag(html, start) else {
            break;
        };
        let end = lower[open_end..]
            .find("</form")
            .map_or(html.len(), |i| open_end + i);
        out.push(Form {
            action: attr(&attrs, "action"),
            method: attr(&attrs, "method").map_or_else(|| "get".into(), |m| m.to_ascii_lowercase()),
            fields: controls(&html[open_end..end], &lower[open_end..end]),
        });
        from = end;
    }
    out
}

/// The text content (tags stripped, entities decoded) of the element with `id`, if present.
pub fn text_by_id(html: &str, id: &str) -> Option<String> {
    let needle = format!("id=\"{id}\"");
    let at = html.find(&needle)?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = html[open_end..]
        .find("</")
        .map_or(html.len(), |i| open_end + i);
    Some(decode(strip_tags(&html[open_end..close]).trim()))
}

/// The value of attribute `name` on the element with `id` (e.g. a link's `href`), decoded.
pub fn attr_by_id(html: &str, id: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let (attrs, _) = start_tag(html, start)?;
    attr(&attrs, name)
}

/// Visible text of a page, for error messages: tags removed, whitespace collapsed, truncated.
pub fn excerpt(html: &str, max: usize) -> String {
    let body_start = html.find("<body").unwrap_or(0);
    let text = decode(&strip_tags(&html[body_start..]));
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.chars().take(max).collect()
}

/// A start tag's attributes: lower-cased names, decoded values (`None` for bare attributes).
type Attributes = Vec<(String, Option<String>)>;

fn controls(html: &str, lower: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut submit: Option<(String, String)> = None;
    let mut from = 0;
    loop {
        let input = find_tag(lower, "input", from);
        let button = find_tag(lower, "button", from);
        let (at, is_button) = match (input, button) {
            (Some(i), Some(b)) if b < i => (b, true),
            (Some(i), _) => (i, false),
            (None, Some(b)) => (b, true),
            (None, None) => break,
        };
        let Some((attrs, end)) = start_tag(html, at) else {
            break;
        };
        from = end;
        let kind = attr(&attrs, "type")
            .unwrap_or_else(|| if is_button { "submit" } else { "text" }.into())
            .to_ascii_lowercase();
        let Some(name) = attr(&attrs, "name") else {
            continue;
        };
        let value = attr(&attrs, "value").unwrap_or_default();
        match kind.as_str() {
            "submit" | "image" => {
                submit.get_or_insert((name, value));
            }
            "button" | "reset" | "file" => {}
            "checkbox" | "radio" if !has_attr(&attrs, "checked") => {}
            _ => fields.push((name, value)),
        }
    }
    fields.extend(submit);
    fields
}

/// Index of the next `<tag` (followed by whitespace, `>` or `/`) at or after `from`.
fn find_tag(lower: &str, tag: &str, from: usize) -> Option<usize> {
    let needle = format!("<{tag}");
    let mut at = from;
    while let Some(i) = lower.get(at..)?.find(&needle) {
        let pos = at + i;
        match lower.as_bytes().get(pos + needle.len()) {
            Some(b' ' | b'\t' | b'\n' | b'\r' | b'>' | b'/') => return Some(pos),
            _ => at = pos + needle.len(),
        }
    }
    None
}

/// Parses the start tag beginning at `at`: its attributes (names lower-cased, values decoded)
/// and the index just past its `>`.
fn start_tag(html: &str, at: usize) -> Option<(Attributes, usize)> {
    let bytes = html.as_bytes();
    let mut i = at + 1;
    while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'>' | b'/') {
        i += 1;
    }
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'/') {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => return Some((attrs, i + 1)),
            _ => {
                let name_start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'=' | b'>' | b'/')
                {
                    i += 1;
                }
                let name = html[name_start..i].to_ascii_lowercase();
                let mut value = None;
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    let (raw, next) = match bytes.get(i)? {
                        q @ (b'"' | b'\'') => {
                            let close = html[i + 1..].find(*q as char)? + i + 1;
                            (&html[i + 1..close], close + 1)
                        }
                        _ => {
                            let start = i;
                            while i < bytes.len()
                                && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'>')
                            {
                                i += 1;
                            }
                            (&html[start..i], i)
                        }
                    };
                    value = Some(decode(raw));
                    i = next;
                }
                attrs.push((name, value));
            }
        }
    }
}

fn attr(attrs: &Attributes, name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.clone())
}

fn has_attr(attrs: &Attributes, name: &str) -> bool {
    attrs.iter().any(|(n, _)| n == name)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes the character references our pages produce (`&amp;`, `&lt;`, `&gt;`, `&quot;`,
/// `&#39;` and numeric ones).
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_login_form() {
        let page = r#"<p id="login-error" class="error">Invalid username or password.</p>
<form id="login-form" method="post" action="/i/abc/login" autocomplete="off">
<input id="login" name="login" type="text" value="demo&amp;user" required autofocus>
<input id="password" name="password" type="password" required>
<input type="checkbox" name="remember"><button id="login-submit" type="submit">Sign in</button>
</form>"#;
        let forms = forms(page);
        assert_eq!(forms.len(), 1);
        assert_eq!(forms[0].action.as_deref(), Some("/i/abc/login"));
        assert_eq!(forms[0].method, "post");
        assert_eq!(
            forms[0].fields,
            vec![
                ("login".into(), "demo&user".into()),
                ("password".into(), String::new())
            ]
        );
        assert_eq!(
            text_by_id(page, "login-error").as_deref(),
            Some("Invalid username or password.")
        );
    }

    #[test]
    fn reads_an_attribute_by_id() {
        let page =
            r#"<p class="muted"><a id="login-cancel" href="/i/a&amp;b/abort">Cancel</a></p>"#;
        assert_eq!(
            attr_by_id(page, "login-cancel", "href").as_deref(),
            Some("/i/a&b/abort")
        );
        assert_eq!(attr_by_id(page, "login-cancel", "title"), None);
        assert_eq!(attr_by_id(page, "nope", "href"), None);
    }

    #[test]
    fn includes_the_first_named_submit_button() {
        let page = r#"<FORM method=POST action='/end/confirm'><input type=hidden name=xsrf value=a1>
<button id="logout-confirm" type="submit" name="logout" value="yes">Yes</button>
<button type="submit" name="logout" value="no">No</button></FORM>"#;
        let form = &forms(page)[0];
        assert_eq!(
            form.fields,
            vec![
                ("xsrf".into(), "a1".into()),
                ("logout".into(), "yes".into())
            ]
        );
    }

    #[test]
    fn ignores_look_alike_tags_and_decodes_numeric_references() {
        assert!(forms("<formation></formation>").is_empty());
        assert_eq!(decode("a&#39;b&#x3C;c & d"), "a'b<c & d");
        assert_eq!(
            excerpt("<html><body><h1>Oops</h1>\n<p>x &gt; y</p></body>", 100),
            "Oops x > y"
        );
    }
}
