//! The floor: the least any HTTP→HTTP gateway must add. A minimal reverse proxy (hyper 1,
//! HTTP/1.1, TCP_NODELAY on both sides) that forwards each request — method, path, headers and
//! body, streamed — to one backend over a keep-alive connection pool (hyper-util's client) and
//! streams the answer back unchanged (SSE included). It parses nothing above HTTP: no JSON, no
//! MCP, no sessions, no auth. The bench binary runs it as a child process of itself:
//! `<bench-exe> floor --port P --to 127.0.0.1:Q`.
//!
//! The floor + pipe, for a stdio backend: `<bench-exe> floor --port P --stdio CMD ARGS…`
//! ([`stdio`]) starts the stdio server and bridges HTTP to its pipe, one message at a time: a
//! POST's body goes to the server's stdin as one line; a notification or answer (no `"id"` in
//! the body, or a body that has `result`/`error`) gets 202, a request gets the next line the
//! server writes that is not a message of its own (no `"method"`) as `application/json`. It
//! reads no JSON: those are substring checks, enough for the bench's echo calls. Every answer
//! carries the same `Mcp-Session-Id`, so initialize-based clients see a session; GET (a
//! server stream) gets 405, DELETE 204. What an HTTP→stdio gateway pays at least: the HTTP
//! hop of the floor above, and the pipe.

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Entry point of `<bench-exe> floor --port P --to HOST:PORT`.
pub fn main(args: &[String]) {
    let (mut port, mut to) = (0u16, String::new());
    let mut it = args.iter().take_while(|a| *a != "--stdio");
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--port" => port = v.parse().expect("--port N"),
            "--to" => to = v.clone(),
            other => panic!("unknown floor flag {other}"),
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--stdio") {
        let port = args[..i]
            .windows(2)
            .find(|w| w[0] == "--port")
            .map(|w| w[1].parse().expect("--port N"))
            .expect("floor --port P --stdio CMD ARGS");
        return stdio(port, &args[i + 1..]);
    }
    assert!(!to.is_empty(), "floor needs --to HOST:PORT");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        // Keep-alive pool to the backend (idle connections are reused, new ones opened as
        // concurrent requests need them); the request body type is the server's, unbuffered.
        let client: Client<HttpConnector, Incoming> =
            Client::builder(TokioExecutor::new()).build(connector);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind floor port");
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (client, to) = (client.clone(), to.clone());
            tokio::spawn(async move {
                let forward = service_fn(move |mut req: Request<Incoming>| {
                    // Same method, path, query, headers (Host included) and body; only the
                    // connection changes. Errors drop the client's connection.
                    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                    *req.uri_mut() = format!("http://{to}{path}")
                        .parse::<Uri>()
                        .expect("backend uri");
                    client.request(req)
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), forward)
                    .await;
            });
        }
    });
}

/// The stdio server's pipe, one exchange at a time.
struct Pipe {
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

/// The floor + pipe (see the module docs): listens on 127.0.0.1:`port` and bridges to the
/// stdio server `cmd` (program and arguments).
fn stdio(port: u16, cmd: &[String]) {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    use std::sync::Arc;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (program, args) = cmd.split_first().expect("floor --stdio needs a command");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the stdio server");
        let pipe = Arc::new(tokio::sync::Mutex::new(Pipe {
            stdin: child.stdin.take().unwrap(),
            stdout: tokio::io::BufReader::new(child.stdout.take().unwrap()).lines(),
        }));
        let has = |body: &[u8], what: &[u8]| body.windows(what.len()).any(|w| w == what);
        let post = move |body: axum::body::Bytes| async move {
            let session = [("mcp-session-id", "floor")];
            let mut pipe = pipe.lock().await;
            let mut line = body.to_vec();
            line.push(b'\n');
            pipe.stdin
                .write_all(&line)
                .await
                .expect("write to the stdio server");
            let answers = has(&body, b"\"result\"") || has(&body, b"\"error\"");
            if !has(&body, b"\"id\"") || answers {
                return (StatusCode::ACCEPTED, session).into_response();
            }
            loop {
                let line = pipe
                    .stdout
                    .next_line()
                    .await
                    .expect("read the stdio server");
                let line = line.expect("the stdio server closed its stdout");
                if !has(line.as_bytes(), b"\"method\"") {
                    let json = [(header::CONTENT_TYPE.as_str(), "application/json")];
                    return (session, json, line).into_response();
                }
            }
        };
        let app = axum::Router::new().route(
            "/mcp",
            axum::routing::post(post)
                .get(|| async { StatusCode::METHOD_NOT_ALLOWED })
                .delete(|| async { StatusCode::NO_CONTENT }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind floor port");
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.expect("serve");
        drop(child);
    });
}
