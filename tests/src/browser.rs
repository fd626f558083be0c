//! A scripted stand-in for the login window: an HTTP client with its own cookie jar that follows
//! redirects by hand, fills in the identity server's login form, confirms its logout page, and
//! stops at the redirect that leaves the server (the app's `io.curity.dcrclient:` callback).
//! It knows nothing about `dcr-core`, so it can later be wrapped as the engine's user agent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::html;

/// Enough for authorize → interaction → login → resume → callback, several times over.
const MAX_STEPS: usize = 25;

/// Why [`ScriptedBrowser::open`] did not reach a redirect leaving the identity server.
/// Never contains query strings, codes, tokens or passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// The server showed its login form, and no credentials were given (no SSO session).
    #[error("the identity server asked for a password, but no credentials were given")]
    LoginRequired,
    /// The credentials were posted and the login form came back.
    #[error("the identity server refused the credentials: {message}")]
    LoginFailed { message: String },
    /// A page that is neither a redirect nor a form this browser knows how to submit.
    #[error("unexpected page: HTTP {status} at {url}: {text}")]
    UnexpectedPage {
        status: u16,
        url: String,
        text: String,
    },
    /// A redirect without a usable `Location`.
    #[error("HTTP {status} redirect without a valid Location at {url}")]
    BadRedirect { status: u16, url: String },
    #[error("more than {MAX_STEPS} requests without leaving the identity server")]
    TooManySteps,
    #[error("HTTP request failed: {0}")]
    Http(reqwest::Error),
}

impl From<reqwest::Error> for BrowserError {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's message includes the URL, which may carry an authorization code.
        BrowserError::Http(e.without_url())
    }
}

/// An HTTP-only browser with a persistent cookie jar (so the identity server's SSO session
/// survives between [`open`](Self::open) calls, as it does in the app's login window).
pub struct ScriptedBrowser {
    http: reqwest::Client,
    jar: Arc<Jar>,
    password_posts: AtomicUsize,
}

impl Default for ScriptedBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedBrowser {
    pub fn new() -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("dcr-tests-scripted-browser")
            .build()
            .expect("reqwest client");
        ScriptedBrowser {
            http,
            jar,
            password_posts: AtomicUsize::new(0),
        }
    }

    /// How many times a password form has been posted by this browser, so tests can prove that
    /// a sign-in used SSO and asked for no second password.
    pub fn password_posts(&self) -> usize {
        self.password_posts.load(Ordering::SeqCst)
    }

    /// The cookie jar, shared with any other client that should act as the same browser.
    pub fn jar(&self) -> Arc<Jar> {
        self.jar.clone()
    }

    /// Opens `url` (an authorization or end-session request) and returns the first redirect
    /// target that leaves the identity server: a non-http(s) scheme such as
    /// `io.curity.dcrclient:/callback?...`, or another origin such as a loopback redirect URI.
    ///
    /// Login forms are filled with `credentials`; without credentials a login form is
    /// [`BrowserError::LoginRequired`]. Other forms (the logout confirmation, oidc-provider's
    /// auto-submitting pages) are submitted as a user clicking their first button would.
    pub async fn open(
        &self,
        url: Url,
        credentials: Option<(&str, &str)>,
    ) -> Result<Url, BrowserError> {
        let origin = url.origin();
        self.open_until(url, credentials, |location| {
            !matches!(location.scheme(), "http" | "https") || location.origin() != origin
        })
        .await
    }

    /// Like [`open`](Self::open), but stops at the first redirect target for which `leaves`
    /// returns true.
    pub async fn open_until(
        &self,
        url: Url,
        credentials: Option<(&str, &str)>,
        leaves: impl Fn(&Url) -> bool,
    ) -> Result<Url, BrowserError> {
        self.drive(url, AtLogin::Fill(credentials), leaves).await
    }

    /// Like [`open`](Self::open), but a user who clicks the login page's `#login-cancel` link
    /// instead of signing in (the server then answers `access_denied`, RFC 6749 §4.1.2.1).
    /// Without a login page (an SSO session) the flow completes as with [`open`](Self::open).
    pub async fn open_and_cancel(&self, url: Url) -> Result<Url, BrowserError> {
        let origin = url.origin();
        self.open_and_cancel_until(url, |location| {
            !matches!(location.scheme(), "http" | "https") || location.origin() != origin
        })
        .await
    }

    /// [`open_and_cancel`](Self::open_and_cancel) with the stop condition of
    /// [`open_until`](Self::open_until).
    pub async fn open_and_cancel_until(
        &self,
        url: Url,
        leaves: impl Fn(&Url) -> bool,
    ) -> Result<Url, BrowserError> {
        self.drive(url, AtLogin::Cancel, leaves).await
    }

    async fn drive(
        &self,
        url: Url,
        at_login: AtLogin<'_>,
        leaves: impl Fn(&Url) -> bool,
    ) -> Result<Url, BrowserError> {
        let mut method = Method::GET;
        let mut current = url;
        let mut form: Vec<(String, String)> = Vec::new();
        let mut just_posted_password = false;

        for _ in 0..MAX_STEPS {
            let mut request = self
                .http
                .request(method.clone(), current.clone())
                .header(ACCEPT, "text/html");
            if method == Method::POST {
                request = request.form(&form);
            }
            let response = request.send().await?;
            let status = response.status();

            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| current.join(v).ok())
                    .ok_or_else(|| BrowserError::BadRedirect {
                        status: status.as_u16(),
                        url: redacted(&current),
                    })?;
                if leaves(&location) {
                    return Ok(location);
                }
                (method, current, just_posted_password) = (Method::GET, location, false);
                continue;
            }

            let is_html = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            let body = response.text().await?;
            let page_form = if status == StatusCode::OK && is_html {
                html::forms(&body).into_iter().next()
            } else {
                None
            };
            let Some(page_form) = page_form else {
                return Err(BrowserError::UnexpectedPage {
                    status: status.as_u16(),
                    url: redacted(&current),
                    text: html::excerpt(&body, 300),
                });
            };

            let action = match page_form.action.as_deref() {
                Some(a) if !a.is_empty() => {
                    current.join(a).map_err(|_| BrowserError::UnexpectedPage {
                        status: status.as_u16(),
                        url: redacted(&current),
                        text: "a form with an invalid action".into(),
                    })?
                }
                _ => current.clone(),
            };
            let mut fields = page_form.fields.clone();
            if page_form.has_field("password") {
                let credentials = match at_login {
                    AtLogin::Fill(credentials) => credentials,
                    AtLogin::Cancel => {
                        let href = html::attr_by_id(&body, "login-cancel", "href")
                            .and_then(|href| current.join(&href).ok())
                            .ok_or_else(|| BrowserError::UnexpectedPage {
                                status: status.as_u16(),
                                url: redacted(&current),
                                text: "a login page without a #login-cancel link".into(),
                            })?;
                        (method, current, just_posted_password) = (Method::GET, href, false);
                        continue;
                    }
                };
                if just_posted_password {
                    let message = html::text_by_id(&body, "login-error")
                        .unwrap_or_else(|| "the login form was shown again".into());
                    return Err(BrowserError::LoginFailed { message });
                }
                let (username, password) = credentials.ok_or(BrowserError::LoginRequired)?;
                fill(&mut fields, "login", username);
                fill(&mut fields, "password", password);
                self.password_posts.fetch_add(1, Ordering::SeqCst);
                just_posted_password = true;
            } else {
                just_posted_password = false;
            }

            if page_form.method == "post" {
                (method, form) = (Method::POST, fields);
                current = action;
            } else {
                let mut target = action;
                target.query_pairs_mut().extend_pairs(&fields);
                (method, form, current) = (Method::GET, Vec::new(), target);
            }
        }
        Err(BrowserError::TooManySteps)
    }
}

/// What the user does at a login form.
#[derive(Clone, Copy)]
enum AtLogin<'a> {
    /// Type these credentials; `None` means "no password known" ([`BrowserError::LoginRequired`]).
    Fill(Option<(&'a str, &'a str)>),
    /// Click `#login-cancel`.
    Cancel,
}

fn fill(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

/// A URL safe to put in an error message: no query or fragment (they may hold a code or state).
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}
