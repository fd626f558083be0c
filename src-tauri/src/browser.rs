//! The embedded sign-in browser: a second `WebviewWindow` on the authorization URL, as the
//! engine's [`UserAgent`].
//!
//! The window has no IPC (no capability names it, and no remote URL is allowed to call
//! commands), so nothing the identity server's page runs can reach the app (X7). The redirect
//! to our private-use scheme is caught here in Rust, never by web content: `on_navigation`
//! refuses it and hands the URL to the engine, and `on_new_window` does the same for
//! `window.open` / `target=_blank`. RFC 8252 §8.12 reserves embedded user agents for
//! first-party identity servers, which is this app's case (Curity's setup); `docs/design.md`
//! says so.
//! Accordingly the window shows only the issuer's origin and the config's `signInOrigins`
//! ([`crate::navigation`]); any other page is refused before it is requested, and the main
//! window is told which host was refused. What the progress screen says comes from the
//! engine's [`BrowserStep::purpose`], never from reading OAuth parameters out of the URL.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dcr_core::agents::{BrowserPurpose, BrowserStep, UserAgent, UserAgentError};
use dcr_core::config::RedirectUri;
use tauri::webview::{NewWindowResponse, PageLoadEvent};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tokio::sync::oneshot;
use url::{Origin, Url};

use dcr_core::Progress;

use crate::events::{emit_progress, emit_refused, ShellStep, Step};
use crate::navigation::{classify, title_for, Navigation};

/// The sign-in window's label. It is in no capability: it gets no IPC at all.
pub const SIGN_IN_WINDOW: &str = "sign-in";

/// A silent single-sign-on round trip usually finishes well within this; if the identity server
/// wants the user after all (no session), the hidden window is shown.
const SILENT_SSO_GRACE: Duration = Duration::from_millis(1500);

/// After this long on the waiting screen, the main window offers "Show the sign-in window" and
/// Cancel, whatever became of the window (a hidden window must never leave the user stuck).
pub const OFFER_AFTER: Duration = Duration::from_secs(3);

/// How long a destroyed sign-in window may take to be gone from Tauri's window list.
const GONE_WITHIN: Duration = Duration::from_secs(5);

type Outcome = Result<Url, UserAgentError>;

/// The browser step the window is serving now. The window's handlers are installed once, when
/// the window is built, and read the step from here, so a later step of the same command can
/// use the same window.
struct Running {
    /// The running step's redirect. It stays after the step ends, so a late redirect between
    /// steps is still caught (refused) and never loaded.
    redirect: Option<RedirectUri>,
    /// Taken by the first outcome of the step (the redirect, a close, a failed load); empty
    /// between steps, so an event then ends nothing.
    reply: Option<oneshot::Sender<Outcome>>,
    /// The window title's verb.
    verb: &'static str,
}

type Slot = Arc<Mutex<Running>>;

/// The sign-in window of the command running now, kept between that command's browser steps.
struct Kept {
    window: tauri::WebviewWindow,
    /// Fires once Tauri has dropped the window ([`destroy_and_wait`]).
    gone: oneshot::Receiver<()>,
    /// False once the window or its web view is gone or going (closed by the user, by Cancel,
    /// or by the page itself): such a window is never navigated again.
    alive: Arc<AtomicBool>,
}

/// The embedded user agent of one command. The shell makes one per command (the first run's
/// register-and-sign-in is one command of two browser steps) and calls [`Self::finish`] when
/// the command ends: all its steps run in one window, so the single-sign-on step reuses the
/// web view that just showed the registration login (it holds the identity server's session
/// already) instead of building a second window and web view.
pub struct EmbeddedBrowser {
    app: AppHandle,
    /// The issuer's origin and `signInOrigins`, from the engine's config: the only pages the
    /// window may show.
    allowed: Arc<Vec<Origin>>,
    slot: Slot,
    kept: tokio::sync::Mutex<Option<Kept>>,
}

/// What the window adds to the engine's own progress reports ([`dcr_core::Progress`], sent by
/// the session through [`crate::events::ProgressEvents`]): only what the window alone knows.
struct Texts {
    /// Once a hidden window had to be shown: the server wants the user after all.
    shown: Step,
    /// After [`OFFER_AFTER`]: the waiting screen offers to show the window, and Cancel.
    offer: Step,
    /// The window title's verb.
    verb: &'static str,
}

fn texts(purpose: BrowserPurpose) -> Texts {
    match purpose {
        BrowserPurpose::RegistrationLogin | BrowserPurpose::SignIn => Texts {
            shown: Progress::WaitingForSignIn.into(),
            offer: Step::Shell(ShellStep::WaitingInWindow),
            verb: "Sign in",
        },
        BrowserPurpose::SignOut => Texts {
            shown: Progress::SigningOut.into(),
            offer: Step::Shell(ShellStep::SigningOutInWindow),
            verb: "Sign out",
        },
    }
}

impl EmbeddedBrowser {
    pub fn new(app: AppHandle, allowed: Vec<Origin>) -> Self {
        Self {
            app,
            allowed: Arc::new(allowed),
            slot: Arc::new(Mutex::new(Running {
                redirect: None,
                reply: None,
                verb: "Sign in",
            })),
            kept: tokio::sync::Mutex::new(None),
        }
    }

    async fn open_window(
        &self,
        url: Url,
        verb: &'static str,
        visible: bool,
    ) -> Result<Kept, UserAgentError> {
        // One sign-in at a time: a leftover window (of a command whose end was not waited for)
        // would be a second, confusing login form. It must be gone before the new one takes
        // its label (see `destroy_and_wait`).
        if let Some(old) = self.app.get_webview_window(SIGN_IN_WINDOW) {
            let _ = old.destroy();
            for _ in 0..GONE_WITHIN.as_millis() / 50 {
                if self.app.get_webview_window(SIGN_IN_WINDOW).is_none() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let alive = Arc::new(AtomicBool::new(true));
        let on_navigation = {
            let slot = self.slot.clone();
            let (allowed, app) = (self.allowed.clone(), self.app.clone());
            move |target: &Url| match decide(&slot, target, &allowed) {
                Navigation::Redirect => {
                    tracing::debug!("sign-in window: the redirect arrived");
                    deliver(&slot, Ok(target.clone()));
                    false
                }
                Navigation::Allow => true,
                Navigation::Block(refused) => {
                    tracing::warn!(place = %refused.place, "sign-in window: refused a navigation");
                    emit_refused(&app, refused.place);
                    false
                }
            }
        };
        let on_new_window = {
            let slot = self.slot.clone();
            let (allowed, app) = (self.allowed.clone(), self.app.clone());
            move |target: Url, _features| {
                match decide(&slot, &target, &allowed) {
                    Navigation::Redirect => deliver(&slot, Ok(target)),
                    // No pop-ups at all; a refused origin is named like a refused navigation.
                    Navigation::Block(refused) => emit_refused(&app, refused.place),
                    Navigation::Allow => {
                        tracing::info!("sign-in window: a pop-up on an allowed origin was denied")
                    }
                }
                NewWindowResponse::Deny
            }
        };
        // The title names the page actually shown (committed), not the first one: the window
        // has no address bar. Only allowed pages can commit.
        let on_page_load = {
            let slot = self.slot.clone();
            move |window: tauri::WebviewWindow, payload: tauri::webview::PageLoadPayload<'_>| {
                if payload.event() == PageLoadEvent::Started {
                    let verb = lock(&slot).verb;
                    let _ = window.set_title(&title_for(verb, payload.url()));
                }
            }
        };
        let window =
            WebviewWindowBuilder::new(&self.app, SIGN_IN_WINDOW, WebviewUrl::External(url.clone()))
                .title(title_for(verb, &url))
                .inner_size(520.0, 700.0)
                .min_inner_size(380.0, 480.0)
                .visible(visible)
                .focused(visible)
                .on_navigation(on_navigation)
                .on_new_window(on_new_window)
                .on_page_load(on_page_load)
                .build()
                .map_err(|error| {
                    UserAgentError::Failed(format!("could not open the sign-in window: {error}"))
                })?;
        let (closed, dead) = (self.slot.clone(), alive.clone());
        let (gone_tx, gone) = oneshot::channel();
        let gone_tx = Mutex::new(Some(gone_tx));
        window.on_window_event(move |event| {
            if matches!(
                event,
                WindowEvent::Destroyed | WindowEvent::CloseRequested { .. }
            ) {
                dead.store(false, Ordering::SeqCst);
                deliver(&closed, Err(UserAgentError::Cancelled));
            }
            if matches!(event, WindowEvent::Destroyed) {
                if let Some(gone) = gone_tx.lock().ok().and_then(|mut slot| slot.take()) {
                    let _ = gone.send(());
                }
            }
        });
        watch_page_close(&window, self.slot.clone(), alive.clone());
        watch_load_failure(&window, self.slot.clone());
        Ok(Kept {
            window,
            gone,
            alive,
        })
    }

    /// A window of this command that was closed or lost its page is destroyed (and waited
    /// for) before the next step's reply is armed, so its late `Destroyed` ends nothing.
    async fn drop_dead_window(&self) {
        let mut kept = self.kept.lock().await;
        if kept
            .as_ref()
            .is_some_and(|old| !old.alive.load(Ordering::SeqCst))
        {
            if let Some(old) = kept.take() {
                destroy_and_wait(old).await;
            }
        }
    }

    /// The command's window on `url`: the one its earlier step used, navigated, when it is
    /// still there; otherwise a new one.
    async fn window_on(
        &self,
        url: Url,
        verb: &'static str,
        visible: bool,
    ) -> Result<tauri::WebviewWindow, UserAgentError> {
        let mut kept = self.kept.lock().await;
        if let Some(old) = kept.take() {
            let window = old.window.clone();
            let _ = window.set_title(&title_for(verb, &url));
            match window.navigate(url.clone()) {
                Ok(()) => {
                    *kept = Some(old);
                    if visible {
                        show_and_focus(&window);
                    }
                    return Ok(window);
                }
                Err(error) => {
                    tracing::warn!(%error, "sign-in window: could not be reused; opening a new one");
                    // Its `Destroyed` must not end the step that is about to start.
                    let reply = lock(&self.slot).reply.take();
                    destroy_and_wait(old).await;
                    lock(&self.slot).reply = reply;
                }
            }
        }
        let new = self.open_window(url, verb, visible).await?;
        let window = new.window.clone();
        *kept = Some(new);
        Ok(window)
    }

    /// The step is over and the command may have another: the window leaves the screen but
    /// keeps its web view (and the identity server's session cookie in it). The main window is
    /// raised first, so it is never under a window that is going away when it paints its next
    /// screen.
    fn set_aside(&self, window: &tauri::WebviewWindow) {
        focus_main(&self.app);
        if let Err(error) = window.hide() {
            tracing::warn!(%error, "sign-in window: could not be hidden");
        }
    }

    /// The step failed or was cancelled, so the command ends with it: the window goes at once
    /// and is gone (from Tauri's window list) when this returns.
    async fn discard(&self) {
        if let Some(kept) = self.kept.lock().await.take() {
            destroy_and_wait(kept).await;
        }
    }

    /// The command has ended (success or error): its window goes. Not waited for: the command's
    /// answer (which the main window turns into its next screen) should not wait on a window
    /// teardown; a next command's window waits for the label to be free ([`Self::open_window`]).
    pub fn finish(&self) {
        let kept = self.kept.try_lock().ok().and_then(|mut kept| kept.take());
        if let Some(kept) = kept {
            tauri::async_runtime::spawn(destroy_and_wait(kept));
        }
    }
}

/// A command whose end was never reached (its future was dropped) must not leave a hidden window
/// behind.
impl Drop for EmbeddedBrowser {
    fn drop(&mut self) {
        if let Some(kept) = self.kept.get_mut().take() {
            let _ = kept.window.destroy();
        }
    }
}

/// [`classify`] against the running (or last) step's redirect. The window only exists once a
/// step has set one.
fn decide(slot: &Slot, target: &Url, allowed: &[Origin]) -> Navigation {
    match lock(slot).redirect.clone() {
        Some(redirect) => classify(target, &redirect, allowed),
        None => Navigation::Block(crate::navigation::Refused {
            place: crate::navigation::place_of(target),
        }),
    }
}

fn lock(slot: &Slot) -> std::sync::MutexGuard<'_, Running> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Destroys the window and waits until Tauri has dropped it. Tauri forgets a window by its
/// *label* when the destroy is processed, later, on the event loop; every sign-in window has
/// the same label, so an old window's late `Destroyed` would make Tauri forget the next
/// window (which then can no longer be found to show, close or clear). Waiting here keeps one
/// window per label at a time.
async fn destroy_and_wait(kept: Kept) {
    kept.alive.store(false, Ordering::SeqCst);
    if kept.window.destroy().is_ok() && tokio::time::timeout(GONE_WITHIN, kept.gone).await.is_err()
    {
        tracing::warn!("sign-in window: not gone after it was destroyed");
    }
}

/// Brings the main window forward.
fn focus_main(app: &AppHandle) {
    if let Some(main) = app.get_webview_window("main") {
        let _ = main.unminimize();
        if let Err(error) = main.set_focus() {
            tracing::warn!(%error, "main window: could not be focused");
        }
    }
}

/// Shows and focuses the window. Failures are logged: an unshown window must not go unnoticed
/// (the waiting screen also offers to show it, [`OFFER_AFTER`]).
pub fn show_and_focus(window: &tauri::WebviewWindow) {
    if let Err(error) = window.show() {
        tracing::warn!(%error, "sign-in window: could not be shown");
    }
    let _ = window.unminimize();
    if let Err(error) = window.set_focus() {
        tracing::warn!(%error, "sign-in window: could not be focused");
    }
    if !window.is_visible().unwrap_or(false) {
        tracing::warn!("sign-in window: still not visible after show");
    }
}

/// "Show the sign-in window" on the waiting screen.
pub fn show_sign_in_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(SIGN_IN_WINDOW) {
        show_and_focus(&window);
    }
}

/// Cancel on the waiting screen: closing the window cancels the step, as when the user closes it.
pub fn close_sign_in_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(SIGN_IN_WINDOW) {
        let _ = window.destroy();
    }
}

/// A page that closes itself (`window.close()`, or an automation close) makes wry destroy the
/// web view but keep the window, and Tauri sends no window event; so watch the web view's own
/// GObject `destroy` signal. (Its `close` signal is no use: wry's handler runs first and the
/// destroy disconnects every later handler.)
#[cfg(target_os = "linux")]
fn watch_page_close(window: &tauri::WebviewWindow, slot: Slot, alive: Arc<AtomicBool>) {
    let _ = window.with_webview(move |webview| {
        use webkit2gtk::glib::prelude::ObjectExt;
        webview.inner().connect_local("destroy", false, move |_| {
            alive.store(false, Ordering::SeqCst);
            deliver(&slot, Err(UserAgentError::Cancelled));
            None
        });
    });
}

#[cfg(not(target_os = "linux"))]
fn watch_page_close(_window: &tauri::WebviewWindow, _slot: Slot, _alive: Arc<AtomicBool>) {}

/// docs/faults.md: a sign-in page that cannot be loaded (the identity server died or
/// is unreachable) used to leave WebKit's bare "Could not connect" page in the window and the
/// main window waiting for a sign-in that could never happen. Now the step ends as
/// `unreachable`, with the app's retry screen. Cancelled loads (our own refusal of the redirect
/// or of a page off the allowed origins, or a load that the next step's navigation replaced)
/// and policy errors are not failures of the server.
#[cfg(target_os = "linux")]
fn watch_load_failure(window: &tauri::WebviewWindow, slot: Slot) {
    let _ = window.with_webview(move |webview| {
        use webkit2gtk::{NetworkError, PolicyError, WebViewExt};
        webview
            .inner()
            .connect_load_failed(move |_, _event, _uri, error| {
                let ours = error.kind::<NetworkError>() == Some(NetworkError::Cancelled)
                    || error.kind::<PolicyError>().is_some();
                if !ours {
                    tracing::warn!("sign-in window: the page could not be loaded");
                    deliver(&slot, Err(UserAgentError::Unreachable));
                }
                false
            });
    });
}

#[cfg(not(target_os = "linux"))]
fn watch_load_failure(_window: &tauri::WebviewWindow, _slot: Slot) {}

/// The first outcome of the running step wins: the redirect, or the user closing the window.
fn deliver(slot: &Slot, outcome: Outcome) {
    if let Some(sender) = lock(slot).reply.take() {
        let _ = sender.send(outcome);
    }
}

#[async_trait::async_trait]
impl UserAgent for EmbeddedBrowser {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let texts = texts(step.purpose);
        let visible = step.user_action_expected;

        self.drop_dead_window().await;
        let (sender, mut receiver) = oneshot::channel();
        {
            let mut running = lock(&self.slot);
            running.redirect = Some(step.redirect.clone());
            running.reply = Some(sender);
            running.verb = texts.verb;
        }
        let window = match self.window_on(step.url, texts.verb, visible).await {
            Ok(window) => window,
            Err(error) => {
                lock(&self.slot).reply = None;
                return Err(error);
            }
        };

        // Single sign-on usually needs no window on screen at all; show it only if the server
        // asks for the user. Then, in any case, the waiting screen offers "Show the sign-in
        // window".
        let mut waited = Duration::ZERO;
        let mut outcome = None;
        if !visible {
            match tokio::time::timeout(SILENT_SSO_GRACE, &mut receiver).await {
                Ok(done) => outcome = Some(done),
                Err(_) => {
                    show_and_focus(&window);
                    emit_progress(&self.app, texts.shown);
                    waited = SILENT_SSO_GRACE;
                }
            }
        }
        if outcome.is_none() {
            match tokio::time::timeout(OFFER_AFTER - waited, &mut receiver).await {
                Ok(done) => outcome = Some(done),
                Err(_) => emit_progress(&self.app, texts.offer),
            }
        }
        let outcome = match outcome {
            Some(done) => done,
            None => receiver.await,
        };
        let outcome = outcome.unwrap_or(Err(UserAgentError::Cancelled));
        lock(&self.slot).reply = None;
        if outcome.is_ok() {
            self.set_aside(&window);
        } else {
            // The command ends with this step; so does its window, at once (a closed or failed
            // window is never shown again).
            self.discard().await;
        }
        outcome
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

    /// Sign-out never says "Signing you in…", and what the screen says comes from
    /// the engine's purpose alone.
    #[test]
    fn progress_text_follows_the_purpose() {
        for purpose in [BrowserPurpose::RegistrationLogin, BrowserPurpose::SignIn] {
            let texts = texts(purpose);
            assert_eq!(texts.shown, Step::Engine(Progress::WaitingForSignIn));
            assert_eq!(texts.offer, Step::Shell(ShellStep::WaitingInWindow));
            assert_eq!(texts.verb, "Sign in");
        }
        let sign_out = texts(BrowserPurpose::SignOut);
        assert_eq!(sign_out.shown, Step::Engine(Progress::SigningOut));
        assert_eq!(sign_out.offer, Step::Shell(ShellStep::SigningOutInWindow));
        assert_eq!(sign_out.verb, "Sign out");
    }
}
