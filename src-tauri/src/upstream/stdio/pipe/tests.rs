//! Unit tests of the stdio pipe ([`super`]).

// Logging is deprecated by SEP-2577 in rmcp; these tests relay it all the same.
#![allow(deprecated)]

use super::*;
use crate::upstream::routes::CallNotification;
use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream};

/// A pipe whose server ends are the returned streams: write the server's stdout to the
/// first, read what the server gets on stdin from the second.
fn test_pipe() -> (Pipe<DuplexStream>, Arc<Shared>, DuplexStream, DuplexStream) {
    test_pipe_with(1 << 20)
}

/// As [`test_pipe`], with room for `stdin_bytes` unread bytes in the server's stdin.
fn test_pipe_with(
    stdin_bytes: usize,
) -> (Pipe<DuplexStream>, Arc<Shared>, DuplexStream, DuplexStream) {
    let (stdout, server_out) = tokio::io::duplex(1 << 20);
    let (stdin, server_in) = tokio::io::duplex(stdin_bytes);
    let (pipe, shared) = pipe(stdout, stdin);
    (pipe, shared, server_out, server_in)
}

/// Writes `lines` to the server's stdout end `out`, each ended by a newline.
async fn write_lines(out: &mut DuplexStream, lines: &[&str]) {
    let text = format!("{}\n", lines.join("\n"));
    out.write_all(text.as_bytes()).await.unwrap();
}

fn key(s: &str) -> RequestId {
    RequestId::String(s.into())
}

/// `shared`'s wait for the answer `id`, without progress.
fn wait(shared: &Arc<Shared>, id: &str) -> Option<Pending> {
    shared.wait_for(key(id), Alive::new(), None)
}

#[tokio::test]
async fn answers_to_waiting_calls_are_taken_off_and_the_rest_go_to_rmcp() {
    let (mut pipe, shared, mut out, _in) = test_pipe();
    let mut pending = wait(&shared, "loopgate-1").unwrap();
    let answer = r#"{"jsonrpc":"2.0","id":"loopgate-1","result":{"content":[]}}"#;
    let lines = [
        r#"{"jsonrpc":"2.0","id":"loopgate-2","result":{}}"#,
        answer,
        r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#,
    ];
    write_lines(&mut out, &lines).await;
    // The answer nobody waits for goes to rmcp (which drops it), the call's does not.
    let first = pipe.receive().await.unwrap();
    assert!(matches!(first, JsonRpcMessage::Response(r) if r.id == key("loopgate-2")));
    let second = pipe.receive().await.unwrap();
    assert!(matches!(second, JsonRpcMessage::Notification(_)));
    let answered = (&mut pending.answer).await.unwrap();
    assert_eq!(
        (answered.shape, answered.text.get()),
        (Shape::Response, answer)
    );
}

#[tokio::test]
async fn a_waiting_calls_progress_moves_its_timeout_and_comes_before_its_answer() {
    let (mut pipe, shared, mut out, _in) = test_pipe();
    let alive = Alive::new();
    let (tx, mut told) = tokio::sync::mpsc::channel(4);
    let (inbound, _) = tokio::sync::mpsc::channel(1);
    let route = Arc::new(CallRoute {
        owner: 1,
        inbound,
        notifications: Some(tx),
        takes_logs: false,
    });
    let mut pending = shared
        .wait_for(key("loopgate-1"), alive.clone(), Some(route))
        .unwrap();
    let before = alive.at();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let lines = [
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"loopgate-1","progress":1}}"#,
        r#"{"jsonrpc":"2.0","id":"loopgate-1","result":{"content":[]}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"other","progress":1}}"#,
    ];
    write_lines(&mut out, &lines).await;
    // Another call's progress goes to rmcp; this call's is at the call before its answer.
    assert!(matches!(
        pipe.receive().await.unwrap(),
        JsonRpcMessage::Notification(_)
    ));
    assert!(alive.at() > before, "progress touched the call");
    (&mut pending.answer).await.unwrap();
    let told = *told.try_recv().unwrap();
    assert!(
        matches!(&told, CallNotification::Progress(p) if p.progress == 1.0),
        "{told:?}"
    );
}

#[tokio::test]
async fn faults_are_treated_as_rmcps_transport_treats_them() {
    let (mut pipe, _shared, mut out, server_in) = test_pipe();
    let lines = [
        "this is no JSON",
        "",
        r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/x","params":[1]}"#,
        "\u{feff}{\"jsonrpc\":\"2.0\",\"method\":\"notifications/prompts/list_changed\"}\r",
    ];
    write_lines(&mut out, &lines).await;
    // Only the last line is a message; the byte order mark and `\r` are no part of it.
    let message = pipe.receive().await.unwrap();
    assert!(matches!(message, JsonRpcMessage::Notification(_)));
    // JSON that is no message got one "Invalid Request" error back; the notification
    // rmcp cannot read none.
    let mut answers = BufReader::new(server_in).lines();
    let reply = answers.next_line().await.unwrap().unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["error"]["code"], -32600);
    assert_eq!(reply["id"], serde_json::Value::Null);
    drop(out);
    assert!(pipe.receive().await.is_none(), "end of file");
    pipe.close().await.unwrap();
    assert_eq!(answers.next_line().await.unwrap(), None, "one reply only");
}

#[tokio::test]
async fn at_end_of_file_waiting_calls_fail_and_new_ones_are_not_taken() {
    let (mut pipe, shared, out, _in) = test_pipe();
    let mut pending = wait(&shared, "loopgate-1").unwrap();
    drop(out);
    assert!(pipe.receive().await.is_none());
    assert!((&mut pending.answer).await.is_err(), "the call is told");
    assert!(wait(&shared, "loopgate-2").is_none());
}

#[tokio::test]
async fn closing_fails_waiting_calls_and_closes_the_servers_stdin() {
    let (mut pipe, shared, _out, mut server_in) = test_pipe();
    let mut pending = wait(&shared, "loopgate-1").unwrap();
    pipe.close().await.unwrap();
    assert!((&mut pending.answer).await.is_err());
    let mut rest = Vec::new();
    server_in.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "stdin closed with nothing written");
    let e = shared.write(b"{}\n".to_vec()).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotConnected);
}

#[tokio::test]
async fn rmcps_lines_and_the_exchanges_never_interleave() {
    let (mut pipe, shared, _out, server_in) = test_pipe();
    let big = "x".repeat(200_000);
    let mut writes = Vec::new();
    for n in 0..20 {
        let message = ClientJsonRpcMessage::request(
            rmcp::model::ClientRequest::PingRequest(Default::default()),
            RequestId::Number(n),
        );
        let mut text = String::from_utf8(line(message)).unwrap();
        text.insert_str(text.len() - 2, &format!(",\"pad\":\"{big}\""));
        let shared = shared.clone();
        writes.push(tokio::spawn(async move {
            shared.write(text.into_bytes()).await.unwrap()
        }));
        let from_rmcp = ClientJsonRpcMessage::notification(
            rmcp::model::ClientNotification::InitializedNotification(Default::default()),
        );
        let send = pipe.send(from_rmcp);
        writes.push(tokio::spawn(async move { send.await.unwrap() }));
    }
    let reader = tokio::spawn(async move {
        let mut lines = BufReader::new(server_in).lines();
        let mut n = 0;
        while let Some(l) = lines.next_line().await.unwrap() {
            serde_json::from_str::<serde_json::Value>(&l).expect("a whole message per line");
            n += 1;
            if n == 40 {
                break;
            }
        }
        n
    });
    for w in writes {
        w.await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), 40);
}

#[tokio::test]
async fn a_write_its_caller_gave_up_on_is_finished_whole() {
    let (_pipe, shared, _out, server_in) = test_pipe_with(64);
    let first = format!("{{\"pad\":\"{}\"}}\n", "a".repeat(10_000));
    let write = shared.write(first.clone().into_bytes());
    // The caller waits only until the pipe is full, then goes away.
    let gave_up = tokio::time::timeout(std::time::Duration::from_millis(50), write).await;
    assert!(
        gave_up.is_err(),
        "the server reads nothing yet, so the write waits"
    );
    let second = "{\"next\":1}\n".to_string();
    let next = tokio::spawn({
        let shared = shared.clone();
        let second = second.clone();
        async move { shared.write(second.into_bytes()).await.unwrap() }
    });
    let read = async {
        let mut lines = BufReader::new(server_in).lines();
        let first = lines.next_line().await.unwrap().unwrap();
        (first, lines.next_line().await.unwrap().unwrap())
    };
    let (one, two) = tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("both lines arrive");
    assert_eq!(one, first.trim_end());
    assert_eq!(two, second.trim_end());
    next.await.unwrap();
}

#[tokio::test]
async fn a_server_that_floods_junk_without_reading_gets_one_reply_at_a_time() {
    let (mut pipe, _shared, mut out, server_in) = test_pipe_with(16);
    let junk = "[1]\n".repeat(200);
    out.write_all(
        format!("{junk}{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}}\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    assert!(matches!(
        pipe.receive().await.unwrap(),
        JsonRpcMessage::Notification(_)
    ));
    // The first reply waits for room in stdin; the 199 others were not queued behind it.
    let mut lines = BufReader::new(server_in).lines();
    let reply = lines.next_line().await.unwrap().unwrap();
    assert!(reply.contains("-32600"), "{reply}");
    let rest = async {
        let mut more = 0;
        while lines.next_line().await.unwrap().is_some() {
            more += 1;
        }
        more
    };
    let (closed, more) = tokio::join!(pipe.close(), rest);
    closed.unwrap();
    assert_eq!(more, 0, "one reply only");
}

/// A log message goes to the pipe's [`Logging`] as it is read, before the answer after it
/// reaches its call, and not to rmcp; without one it goes to rmcp as before.
#[tokio::test]
async fn log_messages_are_handed_over_in_order_before_the_answer_after_them() {
    let (pipe, shared, mut out, _in) = test_pipe();
    let logged = Arc::new(Mutex::new(Vec::new()));
    let sink = logged.clone();
    let mut pipe = pipe.with_logging(Box::new(move |m| sink.lock().unwrap().push(m.data)));
    let mut pending = wait(&shared, "loopgate-1").unwrap();
    let lines = [
        r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"working"}}"#,
        r#"{"jsonrpc":"2.0","id":"loopgate-1","result":{"content":[]}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}"#,
    ];
    write_lines(&mut out, &lines).await;
    // The first message rmcp gets is the one after the answer.
    assert!(matches!(
        pipe.receive().await.unwrap(),
        JsonRpcMessage::Notification(n)
            if matches!(n.notification, ServerNotification::ToolListChangedNotification(_))
    ));
    (&mut pending.answer).await.unwrap();
    assert_eq!(*logged.lock().unwrap(), vec![serde_json::json!("working")]);

    let (mut plain, _shared, mut out, _in) = test_pipe();
    out.write_all(format!("{}\n", lines[0]).as_bytes())
        .await
        .unwrap();
    assert!(matches!(
        plain.receive().await.unwrap(),
        JsonRpcMessage::Notification(n)
            if matches!(n.notification, ServerNotification::LoggingMessageNotification(_))
    ));
}
