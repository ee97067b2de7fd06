//! The floor: the least any HTTP→HTTP gateway must add. A minimal reverse proxy (hyper 1,
//! HTTP/1.1, TCP_NODELAY on both sides) that forwards each request — method, path, headers and
//! body, streamed — to one backend over a keep-alive connection pool (hyper-util's client) and
//! streams the answer back unchanged (SSE included). It parses nothing above HTTP: no JSON, no
//! MCP, no sessions, no auth. The bench binary runs it as a child process of itself:
//! `<bench-exe> floor --port P --to 127.0.0.1:Q`.

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
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--port" => port = v.parse().expect("--port N"),
            "--to" => to = v.clone(),
            other => panic!("unknown floor flag {other}"),
        }
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
