//! End-to-end: what the waiting screen says comes from the engine's own
//! account of each browser step, not from the shell reading OAuth parameters out of URLs. In
//! the real app: the registration login waits for the user and then registers, a later
//! sign-in signs in, and signing out says so and never "Signing you in…".

use std::time::Duration;

use dcr_tests::app::{
    fresh_app, record_events, register_through_ui, sign_out_through_ui, type_password, Fresh,
};
use dcr_tests::desktop::Desktop;
use dcr_tests::DEMO_USER;

/// The steps recorded since the last call, once they include `until`.
async fn steps_until(desktop: &Desktop, until: &str) -> Vec<String> {
    let mut last = Vec::new();
    for _ in 0..150 {
        let steps = desktop.eval("return window.__steps || [];").await;
        last = serde_json::from_value(steps).expect("a list of steps");
        if last.iter().any(|step| step == until) {
            desktop.eval("window.__steps = []; return true;").await;
            return last;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the app never reported {until:?}; it reported {last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_progress_text_follows_the_engines_purpose() {
    let Fresh {
        _one,
        idp: _idp, // kept alive: dropping it stops the identity server
        desktop,
        main,
    } = fresh_app().await;
    record_events(&desktop, "progress", "step", "__steps").await;

    // First run: the registration login waits for the user, then registers, then signs in.
    register_through_ui(&desktop, &main).await;
    let first_run = steps_until(&desktop, "registering").await;
    assert_eq!(
        first_run.first().map(String::as_str),
        Some("waitingForSignIn"),
        "{first_run:?}"
    );
    assert!(
        !first_run.contains(&"signingOut".to_owned()),
        "{first_run:?}"
    );

    // Sign-out says so, and never "Signing you in…" (a shell that guessed from the URL got this wrong).
    sign_out_through_ui(&desktop, &main).await;
    let sign_out = steps_until(&desktop, "signingOut").await;
    for wrong in ["signingIn", "waitingForSignIn", "registering"] {
        assert!(
            !sign_out.iter().any(|step| step == wrong),
            "sign-out reported {wrong:?}: {sign_out:?}"
        );
    }

    // A later sign-in is a sign-in: the server has no session now, so the window is shown and
    // the screen waits for the user; it never claims to register.
    desktop.click("#sign-in").await;
    desktop.switch_to_other_window(&main).await;
    desktop.find("#password").await;
    type_password(&desktop, DEMO_USER.0, DEMO_USER.1).await;
    desktop.back_to_main(&main).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    let sign_in = steps_until(&desktop, "signingIn").await;
    for wrong in ["registering", "signingOut"] {
        assert!(
            !sign_in.iter().any(|step| step == wrong),
            "sign-in reported {wrong:?}: {sign_in:?}"
        );
    }
    desktop.close().await;
}
