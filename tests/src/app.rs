//! The app's onboarding, as a user clicks through it: shared steps of the end-to-end tests.

use std::path::PathBuf;

use crate::{Idp, DEMO_USER};
use fantoccini::wd::WindowHandle;

use crate::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};

/// Writes a `config.json` (Curity's keys) for this identity server into a fresh folder.
pub fn write_config(idp: &Idp, extra: serde_json::Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dcr-e2e-{}-{}",
        std::process::id(),
        idp.issuer.port().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("cannot create the config folder");
    let mut config = serde_json::json!({
        "issuer": idp.issuer.as_str().trim_end_matches('/'),
        "registrationClientID": "mobile-dcr-client",
        "redirectUri": "io.curity.dcrclient:/callback",
        "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback",
        "scope": "openid profile"
    });
    if let (Some(base), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).expect("cannot write the config");
    path
}

/// Opens the app on this config.
pub async fn launch(config: &std::path::Path) -> Desktop {
    let config = config.to_str().expect("utf-8 path");
    Desktop::launch(&["--config", config]).await
}

/// A test's own identity server and the app on it, alone on the display while `_one` lives.
pub struct Fresh {
    pub _one: tokio::sync::MutexGuard<'static, ()>,
    pub idp: Idp,
    pub desktop: Desktop,
    pub main: WindowHandle,
}

impl Fresh {
    /// The parts, for a test that takes them apart in one line:
    /// `let (_one, idp, desktop, main) = fresh_app().await.parts();`.
    pub fn parts(
        self,
    ) -> (
        tokio::sync::MutexGuard<'static, ()>,
        Idp,
        Desktop,
        WindowHandle,
    ) {
        (self._one, self.idp, self.desktop, self.main)
    }
}

pub async fn fresh_app() -> Fresh {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let desktop = launch(&write_config(&idp, serde_json::json!({}))).await;
    let main = desktop.main_window().await;
    Fresh {
        _one,
        idp,
        desktop,
        main,
    }
}

/// Clicks *Register this device* and switches to the sign-in window that opens.
pub async fn open_registration_window(desktop: &Desktop, main: &WindowHandle) {
    desktop.click("#register").await;
    desktop.switch_to_other_window(main).await;
}

/// In the sign-in window: types the credentials into the identity server's own form.
pub async fn type_password(desktop: &Desktop, user: &str, password: &str) {
    desktop.type_into("#login", user).await;
    desktop.type_into("#password", password).await;
    desktop.click_and_let_go("#login-submit").await;
}

/// In the sign-in window: the demo user's password; then back in the main window, which lands
/// on Home by itself.
pub async fn finish_sign_in(desktop: &Desktop, main: &WindowHandle) {
    type_password(desktop, DEMO_USER.0, DEMO_USER.1).await;
    desktop.back_to_main(main).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
}

/// First run: one click, one password, and the app lands on Home by itself.
pub async fn register_through_ui(desktop: &Desktop, main: &WindowHandle) {
    open_registration_window(desktop, main).await;
    finish_sign_in(desktop, main).await;
}

/// A fresh app (see [`fresh_app`]) registered through its UI, on Home.
pub async fn registered_app() -> Fresh {
    let fresh = fresh_app().await;
    register_through_ui(&fresh.desktop, &fresh.main).await;
    fresh
}

/// Sign out from Home. The identity server asks for confirmation in the sign-in window when it
/// still has a session for this browser, and logs out straight away when it has none
/// (oidc-provider's end_session); either way the app must end on the Sign-in screen.
pub async fn sign_out_through_ui(desktop: &Desktop, main: &WindowHandle) {
    desktop.click("#sign-out").await;
    let mut sign_out_window = None;
    for _ in 0..150 {
        if sign_out_window.is_none() {
            sign_out_window = desktop.new_window(main).await;
        }
        if let Some(window) = &sign_out_window {
            // Until its page has loaded there is nothing to click; the window may also close
            // under the click once the logout completes.
            if desktop
                .client
                .switch_to_window(window.clone())
                .await
                .is_ok()
            {
                if let Ok(button) = desktop
                    .client
                    .find(fantoccini::Locator::Css("#logout-confirm"))
                    .await
                {
                    let _ =
                        tokio::time::timeout(std::time::Duration::from_secs(10), button.click())
                            .await;
                }
            }
        }
        if desktop.client.switch_to_window(main.clone()).await.is_ok()
            && desktop.has("#sign-in").await
        {
            desktop.back_to_main(main).await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = desktop.client.switch_to_window(main.clone()).await;
    let shot = desktop.screenshot("failure-sign-out").await;
    panic!(
        "signing out never led back to the Sign-in screen (see {})",
        shot.display()
    );
}

/// Records, inside the main window, every command response and every `state-changed` /
/// `progress` payload, so a test can check that no secret ever crossed into the webview.
/// The UI calls `window.__TAURI__.core.invoke` at call time; Tauri defines its IPC internals as
/// read-only properties, so assigning over them is silently ignored. Hence the wrapper replaces
/// the `core` object the UI reads, and the script returns whether the UI's path is now recorded
/// (`ipc_recording_sees_command_replies` checks that a reply really lands in the record).
pub const RECORD_IPC: &str = r#"
    if (!window.__dcrSeen) {
        window.__dcrSeen = [];
        const record = (value) => { window.__dcrSeen.push(JSON.stringify(value)); return value; };
        const core = window.__TAURI__.core;
        const invoke = core.invoke;
        const recorded = (cmd, args, options) =>
            invoke(cmd, args, options).then(record, (error) => { record(error); throw error; });
        recorded.dcrRecording = true;
        try { core.invoke = recorded; } catch (_) { /* read-only: replaced below */ }
        if (window.__TAURI__.core.invoke !== recorded) {
            const copy = Object.assign({}, core, { invoke: recorded });
            try { window.__TAURI__.core = copy; } catch (_) { /* read-only: replaced below */ }
            if (window.__TAURI__.core !== copy) {
                window.__TAURI__ = Object.assign({}, window.__TAURI__, { core: copy });
            }
        }
        for (const name of ['state-changed', 'progress']) {
            window.__TAURI__.event.listen(name, (event) => record(event.payload));
        }
    }
    return window.__TAURI__.core.invoke.dcrRecording === true;
"#;

/// In the main window: from now on keeps `payload.<field>` of every `event`, in order, in the
/// array `window.<list>` (once per page: a second call changes nothing).
pub async fn record_events(desktop: &Desktop, event: &str, field: &str, list: &str) {
    desktop
        .eval(&format!(
            "if (!window.{list}) {{
                 window.{list} = [];
                 window.__TAURI__.event.listen('{event}', (event) => window.{list}.push(event.payload.{field}));
             }}
             return true;"
        ))
        .await;
}

/// What [`RECORD_IPC`] saw in the current window: it must hold `expected` (so the recorder saw
/// the traffic) and none of the secrets the server issued. Returns the record.
pub async fn assert_no_secret_recorded(desktop: &Desktop, idp: &Idp, expected: &str) -> String {
    let seen = desktop
        .eval("return window.__dcrSeen || [];")
        .await
        .to_string();
    assert!(
        seen.contains(expected),
        "the recorder saw the traffic: {seen}"
    );
    for secret in idp.admin_issued_secrets().await {
        assert!(
            !seen.contains(&secret),
            "a secret the server issued reached the webview"
        );
    }
    seen
}

/// The current state, read through the app's own command.
pub async fn current_state(desktop: &Desktop) -> serde_json::Value {
    invoke(desktop, "get_state").await
}

/// What the app's command `command` (one without arguments) answers the main window, the way
/// the UI calls it; a refusal comes back as `{"error": …}`.
pub async fn invoke(desktop: &Desktop, command: &str) -> serde_json::Value {
    desktop
        .eval_async(&format!(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('{command}').then(done, (e) => done({{ error: e }}));"
        ))
        .await
}

/// Home's account of a client that proves itself with a device key: no shared secret, and
/// access tokens bound to the key (DPoP, RFC 9449).
pub async fn wait_for_device_key_home(desktop: &Desktop) {
    desktop
        .wait_for_text("#credential", "Device key (no shared secret)")
        .await;
    desktop
        .wait_for_text("#tokens-bound", "Tokens bound to this device")
        .await;
}

/// Forget this device from Home: the button, then the confirmation (without waiting for what
/// follows: that is the test's to check).
pub async fn forget_through_ui(desktop: &Desktop) {
    desktop.click("#forget").await;
    desktop.find("#forget-confirm").await;
    desktop.click("#forget-confirm").await;
}

/// Opens the app on this config with the test's `BROWSER` shim as the user's browser
/// (loopback and system mode).
pub async fn launch_with_browser(
    config: &std::path::Path,
    shim: &crate::browser_shim::BrowserShim,
) -> Desktop {
    let config = config.to_str().expect("utf-8 path");
    let script = shim.script();
    Desktop::launch_with_env(
        &["--config", config],
        &[("BROWSER", Some(script.as_os_str()))],
    )
    .await
}

/// Polls the app's state until `key` is `value` (e.g. `lastEvent` `refreshed`), and returns it.
pub async fn wait_for_state(desktop: &Desktop, key: &str, value: &str) -> serde_json::Value {
    let mut state = current_state(desktop).await;
    for _ in 0..100 {
        if state[key] == value {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        state = current_state(desktop).await;
    }
    panic!("{key} never became {value}: {state}");
}
