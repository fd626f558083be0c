//! The embedded sign-in browser: a second `WebviewWindow` on the authorization URL, as the
//! engine's [`UserAgent`].
//!
//! The window has no IPC (no capability names it, and no remote URL is allowed to call
//! commands), so nothing the identity server's page runs can reach the app (X7). The redirect
//! to our private-use scheme is caught here in Rust, never by web content: `on_navigation`
//! refuses it and hands the URL to the engine, and `on_new_window` does the same for
//! `window.open` / `target=_blank`. RFC 8252 §8.12 reserves embedded user agents for
//! first-party identity servers, which is this app's case (Curity's setup); the README says so.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dcr_core::config::RedirectUri;
use dcr_core::user_agent::{UserAgent, UserAgentError};
use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use url::Url;

use crate::events::{emit_progress, Step};
use crate::navigation::{classify, Navigation};

/// The sign-in window's label. It is in no capability: it gets no IPC at all.
pub const SIGN_IN_WINDOW: &str = "sign-in";

/// A silent single-sign-on round trip usually finishes well within this; if the identity server
/// wants the user after all (no session), the hidden window is shown.
const SILENT_SSO_GRACE: Duration = Duration::from_millis(1500);

type Outcome = Result<Url, UserAgentError>;
type Reply = Arc<Mutex<Option<oneshot::Sender<Outcome>>>>;

pub struct EmbeddedBrowser {
    app: AppHandle,
    registration_client_id: String,
}

impl EmbeddedBrowser {
    pub fn new(app: AppHandle, registration_client_id: String) -> Self {
        Self {
            app,
            registration_client_id,
        }
    }

    fn open_window(
        &self,
        url: Url,
        redirect: &RedirectUri,
        visible: bool,
        reply: &Reply,
    ) -> Result<tauri::WebviewWindow, UserAgentError> {
        // One sign-in at a time: a leftover window would be a second, confusing login form.
        if let Some(old) = self.app.get_webview_window(SIGN_IN_WINDOW) {
            let _ = old.destroy();
        }
        let host = url.host_str().unwrap_or("identity server").to_owned();
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let on_navigation = {
            let (redirect, reply) = (redirect.clone(), reply.clone());
            move |target: &Url| match classify(target, &redirect) {
                Navigation::Redirect => {
                    deliver(&reply, Ok(target.clone()));
                    false
                }
                Navigation::Allow => true,
                Navigation::Block => {
                    tracing::warn!(
                        scheme = target.scheme(),
                        "sign-in window: blocked a navigation"
                    );
                    false
                }
            }
        };
        let on_new_window = {
            let (redirect, reply) = (redirect.clone(), reply.clone());
            move |target: Url, _features| {
                if classify(&target, &redirect) == Navigation::Redirect {
                    deliver(&reply, Ok(target));
                }
                NewWindowResponse::Deny
            }
        };
        let window =
            WebviewWindowBuilder::new(&self.app, SIGN_IN_WINDOW, WebviewUrl::External(url))
                // There is no address bar: the title says who is asking for the password.
                .title(format!("Sign in — {host}"))
                .inner_size(520.0, 700.0)
                .min_inner_size(380.0, 480.0)
                .visible(visible)
                .focused(visible)
                .on_navigation(on_navigation)
                .on_new_window(on_new_window)
                .build()
                .map_err(|error| {
                    UserAgentError::Failed(format!("could not open the sign-in window: {error}"))
                })?;
        let closed = reply.clone();
        window.on_window_event(move |event| {
            if matches!(
                event,
                WindowEvent::Destroyed | WindowEvent::CloseRequested { .. }
            ) {
                deliver(&closed, Err(UserAgentError::Cancelled));
            }
        });
        watch_page_close(&window, reply.clone());
        Ok(window)
    }
}

/// A page that closes itself (`window.close()`, or an automation close) makes wry destroy the
/// web view but keep the window, and Tauri sends no window event; so watch the web view's own
/// GObject `destroy` signal. (Its `close` signal is no use: wry's handler runs first and the
/// destroy disconnects every later handler.)
#[cfg(target_os = "linux")]
fn watch_page_close(window: &tauri::WebviewWindow, reply: Reply) {
    let _ = window.with_webview(move |webview| {
        use webkit2gtk::glib::prelude::ObjectExt;
        webview.inner().connect_local("destroy", false, move |_| {
            deliver(&reply, Err(UserAgentError::Cancelled));
            None
        });
    });
}

#[cfg(not(target_os = "linux"))]
fn watch_page_close(_window: &tauri::WebviewWindow, _reply: Reply) {}

/// The first outcome wins: the redirect, or the user closing the window.
fn deliver(reply: &Reply, outcome: Outcome) {
    if let Some(sender) = reply.lock().ok().and_then(|mut slot| slot.take()) {
        let _ = sender.send(outcome);
    }
}

/// Whether the request forces the login form (the registration login, `prompt=login`).
fn asks_for_login(url: &Url) -> bool {
    url.query_pairs()
        .any(|(name, value)| name == "prompt" && value.split(' ').any(|p| p == "login"))
}

fn client_id(url: &Url) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == "client_id")
        .map(|(_, value)| value.into_owned())
}

#[async_trait::async_trait]
impl UserAgent for EmbeddedBrowser {
    async fn authorize(&self, url: Url, redirect: &RedirectUri) -> Result<Url, UserAgentError> {
        let is_registration =
            client_id(&url).as_deref() == Some(self.registration_client_id.as_str());
        let interactive = asks_for_login(&url);
        emit_progress(
            &self.app,
            if interactive {
                Step::WaitingForSignIn
            } else {
                Step::SigningIn
            },
        );

        let (sender, receiver) = oneshot::channel();
        let reply: Reply = Arc::new(Mutex::new(Some(sender)));
        let window = self.open_window(url, redirect, interactive, &reply)?;

        // Single sign-on usually needs no window at all; show it only if the server asks for the user.
        let outcome = if interactive {
            receiver.await
        } else {
            let mut receiver = receiver;
            match tokio::time::timeout(SILENT_SSO_GRACE, &mut receiver).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    let _ = window.show();
                    let _ = window.set_focus();
                    emit_progress(&self.app, Step::WaitingForSignIn);
                    receiver.await
                }
            }
        };
        let _ = window.destroy();
        let url = outcome.unwrap_or(Err(UserAgentError::Cancelled))?;
        emit_progress(
            &self.app,
            if is_registration {
                Step::Registering
            } else {
                Step::SigningIn
            },
        );
        Ok(url)
    }
}

/// "Forget this device": drop the identity server's cookies, so the next registration asks for
/// the password. All webviews share one browsing context, so the main window can do it.
pub fn clear_sign_in_data(app: &AppHandle) {
    let window = app
        .get_webview_window(SIGN_IN_WINDOW)
        .or_else(|| app.get_webview_window("main"));
    if let Some(window) = window {
        if let Err(error) = window.clear_all_browsing_data() {
            tracing::warn!(%error, "could not clear the sign-in browsing data");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_login_marks_the_interactive_login() {
        let url = Url::parse("http://idp/auth?client_id=x&prompt=login").expect("url");
        assert!(asks_for_login(&url));
        let url = Url::parse("http://idp/auth?client_id=x").expect("url");
        assert!(!asks_for_login(&url));
        assert_eq!(client_id(&url).as_deref(), Some("x"));
    }
}
