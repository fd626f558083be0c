//! The real-window smoke test: the built app opens in WebKitGTK and shows its first screen.

use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};

#[tokio::test(flavor = "multi_thread")]
async fn the_app_opens_on_the_registration_screen() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    // The development config `make run` uses, passed explicitly: the app has no built-in one.
    let config = dcr_tests::repo_root().join("config.json");
    let desktop = Desktop::launch(&["--config", config.to_str().expect("utf-8 path")]).await;
    let heading = desktop.text_of("h1").await;
    desktop.screenshot("smoke-first-screen").await;
    desktop.close().await;
    assert_eq!(heading, "Register this device");
}
