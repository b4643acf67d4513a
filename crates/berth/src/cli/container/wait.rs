//! Waiting for a container's exit (`POST /containers/{id}/wait`): the request is made
//! (and its head received) before the container starts, so no exit can be missed; the
//! status arrives later in the body.

use anyhow::Result;
use berth_client::Client;
use http::Method;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;

use super::encode_id;

/// The result of one wait: the exit status, or the error docker prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitResult {
    Exited(i64),
    Failed(String),
}

/// Sends the wait request (`condition` as the API names it, or none) and returns a task
/// that yields its result.
pub async fn wait_request(
    client: &mut Client,
    id: &str,
    condition: Option<&str>,
) -> Result<JoinHandle<WaitResult>, berth_client::ClientError> {
    let path = match condition {
        Some(c) => format!("/containers/{}/wait?condition={c}", encode_id(id)),
        None => format!("/containers/{}/wait", encode_id(id)),
    };
    let res = client.request(Method::POST, &path, None).await?;
    Ok(tokio::spawn(async move {
        let mut body = Vec::new();
        if let Err(e) = berth_client::body_reader(res).read_to_end(&mut body).await {
            return WaitResult::Failed(e.to_string());
        }
        parse_wait_body(&body)
    }))
}

/// `{"StatusCode": 3, "Error": null}`; a body that is not JSON is the error text.
pub fn parse_wait_body(body: &[u8]) -> WaitResult {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            if let Some(msg) = v["Error"]["Message"].as_str().filter(|m| !m.is_empty()) {
                return WaitResult::Failed(msg.to_owned());
            }
            WaitResult::Exited(v["StatusCode"].as_i64().unwrap_or(0))
        }
        Err(_) => WaitResult::Failed(String::from_utf8_lossy(body).trim().to_owned()),
    }
}

/// docker's `waitExitOrRemoved`: an exit status, 125 when waiting failed.
pub async fn status_of(task: JoinHandle<WaitResult>) -> i64 {
    exit_status(task.await)
}

/// The exit status of a finished wait; failures are reported and become 125.
pub fn exit_status(result: Result<WaitResult, tokio::task::JoinError>) -> i64 {
    match result {
        Ok(WaitResult::Exited(code)) => code,
        Ok(WaitResult::Failed(msg)) => {
            eprintln!("Error waiting for container: {msg}");
            125
        }
        Err(e) => {
            eprintln!("error waiting for container: {e}");
            125
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_bodies() {
        assert_eq!(
            parse_wait_body(br#"{"StatusCode":3,"Error":null}"#),
            WaitResult::Exited(3)
        );
        assert_eq!(
            parse_wait_body(br#"{"StatusCode":0,"Error":{"Message":"boom"}}"#),
            WaitResult::Failed("boom".into())
        );
        assert_eq!(
            parse_wait_body(b"oops\n"),
            WaitResult::Failed("oops".into())
        );
    }
}
