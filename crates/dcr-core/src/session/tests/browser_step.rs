//! The engine says what each browser step is for: a shell must never have
//! to decode `client_id` or `prompt` from the URL to know whether it is signing in or out.

use super::*;
use crate::agents::BrowserPurpose;

const CALLBACK: &str = "io.curity.dcrclient:/callback";
const LOGOUT_CALLBACK: &str = "io.curity.dcrclient:/logoutcallback";

fn purposes(rig: &Rig) -> Vec<(BrowserPurpose, bool, String)> {
    rig.idp.with(|s| s.browser_purposes.clone())
}

#[tokio::test]
async fn each_browser_step_names_its_purpose_and_redirect() {
    let rig = rig();
    rig.signed_in().await;
    rig.session.sign_out(&rig.browser).await.unwrap();
    assert_eq!(
        purposes(&rig),
        vec![
            // prompt=login: the form is shown whatever session the server has.
            (BrowserPurpose::RegistrationLogin, true, CALLBACK.into()),
            // Single sign-on: usually no user needed.
            (BrowserPurpose::SignIn, false, CALLBACK.into()),
            // The end-session page, answered at the post-logout redirect.
            (BrowserPurpose::SignOut, false, LOGOUT_CALLBACK.into()),
        ]
    );
}

#[tokio::test]
async fn a_later_sign_in_is_a_sign_in_not_a_registration() {
    let rig = rig();
    rig.session.register(&rig.browser).await.unwrap();
    let restarted = rig.restart();
    restarted.sign_in(&rig.browser).await.unwrap();
    restarted.sign_out(&rig.browser).await.unwrap();
    let purposes: Vec<_> = purposes(&rig).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(
        purposes,
        vec![
            BrowserPurpose::RegistrationLogin,
            BrowserPurpose::SignIn,
            BrowserPurpose::SignOut,
        ]
    );
}

#[test]
fn purposes_serialize_in_camel_case() {
    let names: Vec<_> = [
        BrowserPurpose::RegistrationLogin,
        BrowserPurpose::SignIn,
        BrowserPurpose::SignOut,
    ]
    .iter()
    .map(|p| serde_json::to_string(p).unwrap())
    .collect();
    assert_eq!(
        names,
        vec!["\"registrationLogin\"", "\"signIn\"", "\"signOut\""]
    );
}
