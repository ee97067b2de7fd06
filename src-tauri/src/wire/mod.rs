//! Reading the JSON-RPC messages of every relayed call as the one type they are.
//!
//! rmcp's message types (`ClientRequest`, `ServerResult`, `JsonRpcMessage`) are untagged
//! unions: serde buffers the whole message and tries one variant after the other, formatting
//! an error for each miss. A `tools/call` answer is `ServerResult`'s 16th variant. Read as a
//! `ServerJsonRpcMessage` it took about 7 µs on the bench machine, against under 1 µs read as
//! `JsonRpcResponse<CallToolResult>`; a `tools/call` request 7 µs against 2 µs
//! (`tests/bench/RESULTS.md`, run L). Every relayed call pays both twice over: the client's
//! request, the server's answer.
//!
//! So a message is read in two steps here. First its [`Envelope`]: which of the four JSON-RPC
//! shapes it has, decided by which of `method`, `id`, `result` and `error` are present, as rmcp
//! decides it, and its method, with everything else skipped unread. Then, for the relay's own
//! calls (`tools/call`, `prompts/get`, `resources/read`) and their answers, the one type the
//! envelope or the request names (an error answer is a `JsonRpcError`, whatever was asked).
//! A reader that has the envelope already passes its shape on ([`server_message_shaped`]),
//! so it is not read twice. Any other message, and one that type does not fit, is read
//! as rmcp reads it, errors included.
//!
//! The relay's own requests are written the other way round, in one pass from their typed
//! params ([`request`]).
//!
//! The reading differs from rmcp's in one case only: an answer that fits both the result its
//! request expects and an earlier variant of `ServerResult`. Such an answer is read as the
//! expected result, e.g. a `tools/call` answer as a tool's result, never as a `tools/list`
//! page that happens to fit. Answers that are a task (`resultType: "task"`) or ask for input
//! (`"input_required"`) do not fit the result types and are read as rmcp reads them.

use std::fmt;

pub mod request;
pub use request::request_json;

use rmcp::model::{
    CallToolRequest, CallToolResult, ClientJsonRpcMessage, ClientRequest, GetPromptRequest,
    GetPromptResult, JsonRpcError, JsonRpcMessage, JsonRpcRequest, JsonRpcResponse,
    ReadResourceRequest, ReadResourceResult, RequestId, ServerJsonRpcMessage, ServerResult,
};
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The four shapes of a JSON-RPC 2.0 message (JSON-RPC 2.0, sections 4 and 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `method` and `id`.
    Request,
    /// `method` without `id`.
    Notification,
    /// `result`, no `method` or `error`.
    Response,
    /// `error`, no `method` or `result`.
    Error,
}

/// The methods this module tells apart; every other one is [`Method::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `tools/call`.
    CallTool,
    /// `prompts/get`.
    GetPrompt,
    /// `resources/read`.
    ReadResource,
    /// `notifications/cancelled`.
    Cancelled,
    /// `notifications/initialized`.
    Initialized,
    /// Any other method.
    Other,
}

impl Method {
    fn named(name: &str) -> Self {
        match name {
            "tools/call" => Method::CallTool,
            "prompts/get" => Method::GetPrompt,
            "resources/read" => Method::ReadResource,
            "notifications/cancelled" => Method::Cancelled,
            "notifications/initialized" => Method::Initialized,
            _ => Method::Other,
        }
    }
}

/// A message's shape, method and id, read without its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Which kind of message it is.
    pub shape: Shape,
    /// Its method; [`Method::Other`] for an answer, which has none.
    pub method: Method,
    /// Its `id` when that is a string or an integer (JSON-RPC 2.0, section 4); `None` when it
    /// has none, or one of another type (`null` in an error about an unreadable request).
    pub id: Option<RequestId>,
}

impl Envelope {
    /// The envelope of the JSON text `bytes`; `None` when it is no JSON-RPC message: not an
    /// object, not JSON, a `method` that is not a string, or a mix of keys no shape has
    /// (rmcp refuses those too, with its own error).
    pub fn read(bytes: &[u8]) -> Option<Envelope> {
        serde_json::from_slice(bytes).ok()
    }
}

/// The keys that decide a message's shape.
enum Key {
    Method,
    Id,
    Result,
    Error,
    Other,
}

impl Key {
    fn named(key: &str) -> Self {
        match key {
            "method" => Key::Method,
            "id" => Key::Id,
            "result" => Key::Result,
            "error" => Key::Error,
            _ => Key::Other,
        }
    }
}

/// Reads a string, borrowed or escaped alike, as what `.0` names it; `.1` says what was
/// expected, for serde's error.
struct Named<T>(fn(&str) -> T, &'static str);

impl<T> Visitor<'_> for Named<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<T, E> {
        Ok((self.0)(name))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(Named(Key::named, "a key"))
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Named(Method::named, "a method name"))
    }
}

/// A message's `id` as an [`Envelope`] keeps it: a string or an integer, else nothing (the
/// value is skipped, never an error: rmcp decides what an odd id means).
struct LenientId(Option<RequestId>);

impl<'de> Deserialize<'de> for LenientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = LenientId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: serde::de::Error>(self, id: &str) -> Result<LenientId, E> {
                Ok(LenientId(Some(RequestId::String(id.into()))))
            }
            fn visit_i64<E: serde::de::Error>(self, id: i64) -> Result<LenientId, E> {
                Ok(LenientId(Some(RequestId::Number(id))))
            }
            fn visit_u64<E: serde::de::Error>(self, id: u64) -> Result<LenientId, E> {
                Ok(LenientId(i64::try_from(id).ok().map(RequestId::Number)))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<LenientId, E> {
                Ok(LenientId(None))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<LenientId, E> {
                Ok(LenientId(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<LenientId, E> {
                Ok(LenientId(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LenientId, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LenientId(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LenientId, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LenientId(None))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnvelopeVisitor;
        impl<'de> Visitor<'de> for EnvelopeVisitor {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON-RPC 2.0 message")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let (mut method, mut id, mut result, mut error) = (None, None, false, false);
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Method => method = Some(map.next_value::<Method>()?),
                        Key::Id => id = Some(map.next_value::<LenientId>()?.0),
                        other => {
                            map.next_value::<IgnoredAny>()?;
                            match other {
                                Key::Result => result = true,
                                Key::Error => error = true,
                                _ => {}
                            }
                        }
                    }
                }
                // The same table as rmcp's `JsonRpcMessageShape`.
                let shape = match (method.is_some(), id.is_some(), result, error) {
                    (true, true, false, false) => Shape::Request,
                    (true, false, false, false) => Shape::Notification,
                    (false, _, true, false) => Shape::Response,
                    (false, _, false, true) => Shape::Error,
                    _ => return Err(serde::de::Error::custom("unrecognized JSON-RPC message")),
                };
                Ok(Envelope {
                    shape,
                    method: method.unwrap_or(Method::Other),
                    id: id.flatten(),
                })
            }
        }
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

/// A client's message `bytes`, whose envelope is `envelope` ([`Envelope::read`]): one of the
/// relay's calls as its own request type, anything else as rmcp reads it.
///
/// Errors: rmcp's, for text that is no client message.
pub fn client_message(
    bytes: &[u8],
    envelope: Envelope,
) -> serde_json::Result<ClientJsonRpcMessage> {
    typed_client(bytes, envelope).map_or_else(|| serde_json::from_slice(bytes), Ok)
}

/// `bytes` read as the request type its envelope names, if it is one of the relay's calls and
/// fits that type.
fn typed_client(bytes: &[u8], envelope: Envelope) -> Option<ClientJsonRpcMessage> {
    if envelope.shape != Shape::Request {
        return None;
    }
    match envelope.method {
        Method::CallTool => request::<CallToolRequest>(bytes),
        Method::GetPrompt => request::<GetPromptRequest>(bytes),
        Method::ReadResource => request::<ReadResourceRequest>(bytes),
        Method::Cancelled | Method::Initialized | Method::Other => None,
    }
}

/// `bytes` as a request of type `R`, if it is one.
fn request<R>(bytes: &[u8]) -> Option<ClientJsonRpcMessage>
where
    R: DeserializeOwned + Into<ClientRequest>,
{
    let r = serde_json::from_slice::<JsonRpcRequest<R>>(bytes).ok()?;
    Some(JsonRpcMessage::Request(JsonRpcRequest::new(
        r.id,
        r.request.into(),
    )))
}

/// What the answer to a request is read as first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A tool's result (`tools/call`).
    ToolResult,
    /// A prompt (`prompts/get`).
    Prompt,
    /// A resource's contents (`resources/read`).
    Contents,
    /// Whatever rmcp reads it as.
    Any,
}

impl Answer {
    /// What the answer to `request` is read as.
    pub fn to(request: &ClientRequest) -> Answer {
        match request {
            ClientRequest::CallToolRequest(_) => Answer::ToolResult,
            ClientRequest::GetPromptRequest(_) => Answer::Prompt,
            ClientRequest::ReadResourceRequest(_) => Answer::Contents,
            _ => Answer::Any,
        }
    }
}

/// A server's message `text`, read as `answer` says when it is an answer (see the module
/// docs).
///
/// Errors: rmcp's, for text that is no server message.
pub fn server_message(text: &str, answer: Answer) -> serde_json::Result<ServerJsonRpcMessage> {
    let shape = Envelope::read(text.as_bytes()).map(|e| e.shape);
    server_message_shaped(text, shape, answer)
}

/// [`server_message`] for `text` whose envelope was read already: `shape` is its
/// [`Envelope::shape`] (`None` when it has no envelope), so it is not read again.
///
/// Errors: rmcp's, for text that is no server message.
pub fn server_message_shaped(
    text: &str,
    shape: Option<Shape>,
    answer: Answer,
) -> serde_json::Result<ServerJsonRpcMessage> {
    typed_server(text, shape, answer).map_or_else(|| serde_json::from_str(text), Ok)
}

/// `text` (of `shape`) read as an answer whose result is what `answer` names, or as an
/// error, if it is one and fits.
fn typed_server(text: &str, shape: Option<Shape>, answer: Answer) -> Option<ServerJsonRpcMessage> {
    match shape {
        Some(Shape::Response) => match answer {
            Answer::ToolResult => response::<CallToolResult>(text),
            Answer::Prompt => response::<GetPromptResult>(text),
            Answer::Contents => response::<ReadResourceResult>(text),
            Answer::Any => None,
        },
        // An error is one type whatever was asked.
        Some(Shape::Error) => serde_json::from_str::<JsonRpcError>(text)
            .ok()
            .map(JsonRpcMessage::Error),
        _ => None,
    }
}

/// `text` as an answer whose result is an `R`, if it is one.
fn response<R>(text: &str) -> Option<ServerJsonRpcMessage>
where
    R: DeserializeOwned + Into<ServerResult>,
{
    let r = serde_json::from_str::<JsonRpcResponse<R>>(text).ok()?;
    Some(JsonRpcMessage::Response(JsonRpcResponse {
        jsonrpc: r.jsonrpc,
        id: r.id,
        result: r.result.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rmcp's reading of a client message and this module's, as JSON (`None`: refused).
    fn both_client(text: &str) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
        let rmcp = serde_json::from_str::<ClientJsonRpcMessage>(text).ok();
        let here = Envelope::read(text.as_bytes())
            .and_then(|envelope| client_message(text.as_bytes(), envelope).ok());
        let json = |m: Option<ClientJsonRpcMessage>| m.map(|m| serde_json::to_value(m).unwrap());
        (json(rmcp), json(here))
    }

    fn both_server(
        text: &str,
        answer: Answer,
    ) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
        let rmcp = serde_json::from_str::<ServerJsonRpcMessage>(text).ok();
        let here = server_message(text, answer).ok();
        let json = |m: Option<ServerJsonRpcMessage>| m.map(|m| serde_json::to_value(m).unwrap());
        (json(rmcp), json(here))
    }

    #[test]
    fn the_envelope_has_rmcps_shapes() {
        let shape = |t: &str| Envelope::read(t.as_bytes()).map(|e| (e.shape, e.method));
        use Method::*;
        use Shape::*;
        assert_eq!(
            shape(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":[1,{"y":2}]}}"#),
            Some((Request, CallTool))
        );
        assert_eq!(
            shape(r#"{"method":"notifications/cancelled","jsonrpc":"2.0","params":{}}"#),
            Some((Notification, Cancelled))
        );
        assert_eq!(
            shape(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Some((Notification, Initialized))
        );
        assert_eq!(
            shape(r#"{"jsonrpc":"2.0","id":"a","result":null}"#),
            Some((Response, Other))
        );
        assert_eq!(
            shape(r#"{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}"#),
            Some((Error, Other))
        );
        assert_eq!(
            shape(r#"{"jsonrpc":"2.0","id":1,"method":"tools\/list"}"#),
            Some((Request, Other))
        );
        for refused in [
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","result":{}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
            "not json",
        ] {
            assert_eq!(shape(refused), None, "{refused}");
        }
    }

    #[test]
    fn the_envelope_keeps_string_and_integer_ids_only() {
        let id = |t: &str| Envelope::read(t.as_bytes()).map(|e| (e.shape, e.id));
        let answer = |id| Some((Shape::Response, id));
        assert_eq!(
            id(r#"{"jsonrpc":"2.0","id":"loopgate-7","result":{"content":[{"id":1}]}}"#),
            answer(Some(RequestId::String("loopgate-7".into())))
        );
        assert_eq!(
            id(r#"{"result":{},"id":42,"jsonrpc":"2.0"}"#),
            answer(Some(RequestId::Number(42)))
        );
        assert_eq!(
            id(r#"{"jsonrpc":"2.0","id":"a\"b","result":{}}"#),
            answer(Some(RequestId::String("a\"b".into())))
        );
        // Present but unusable: the shape still counts it, as rmcp does, and no id is kept.
        for odd in [
            "null",
            "1.5",
            "true",
            "[1]",
            r#"{"n":1}"#,
            "18446744073709551615",
        ] {
            let text =
                format!(r#"{{"jsonrpc":"2.0","id":{odd},"error":{{"code":1,"message":"m"}}}}"#);
            assert_eq!(id(&text), Some((Shape::Error, None)), "{odd}");
        }
        assert_eq!(
            id(r#"{"jsonrpc":"2.0","method":"notifications/progress"}"#),
            Some((Shape::Notification, None))
        );
    }

    #[test]
    fn client_messages_read_as_rmcp_reads_them() {
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a__b","arguments":{"q":"x"},"_meta":{"progressToken":"p","x":1}}}"#,
            r#"{"jsonrpc":"2.0","id":"s","method":"prompts/get","params":{"name":"p","arguments":{"a":"b"}}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///x"}}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
            r#"{"jsonrpc":"2.0","id":4294967296,"result":{"roots":[]}}"#,
            r#"{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"no"}}"#,
            // Wrong for its method: refused, or read as rmcp reads it.
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"a"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","result":{}}"#,
        ] {
            let (rmcp, here) = both_client(text);
            assert_eq!(here, rmcp, "{text}");
        }
    }

    #[test]
    fn answers_read_as_rmcp_reads_them() {
        use Answer::*;
        for (text, answer) in [
            (
                r#"{"jsonrpc":"2.0","id":"loopgate-1","result":{"content":[{"type":"text","text":"hi"}],"isError":false}}"#,
                ToolResult,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"content":[],"structuredContent":null,"_meta":{"a":1}}}"#,
                ToolResult,
            ),
            // Empty, a task, asking for input: not a tool's result; rmcp's reading.
            (r#"{"jsonrpc":"2.0","id":1,"result":{}}"#, ToolResult),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"task","taskId":"t","status":"working","createdAt":"2026-01-01T00:00:00Z","lastUpdatedAt":"2026-01-01T00:00:00Z"}}"#,
                ToolResult,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required","requestState":"s"}}"#,
                ToolResult,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"messages":[{"role":"user","content":{"type":"text","text":"x"}}]}}"#,
                Prompt,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"file:///x","text":"x"}]}}"#,
                Contents,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[],"nextCursor":"c"}}"#,
                Any,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}"#,
                ToolResult,
            ),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p","progress":1}}"#,
                ToolResult,
            ),
            (
                r#"{"jsonrpc":"2.0","id":9,"method":"sampling/createMessage","params":{"messages":[],"maxTokens":5}}"#,
                ToolResult,
            ),
            (r#"{"jsonrpc":"2.0","id":1,"result":"text"}"#, ToolResult),
            (r#"{"jsonrpc":"2.0","result":{"content":[]}}"#, ToolResult),
        ] {
            let (rmcp, here) = both_server(text, answer);
            assert_eq!(here, rmcp, "{text}");
        }
    }

    #[test]
    fn an_answer_is_read_as_what_its_request_expects() {
        // Fits a completion (ServerResult's third variant) and a tool's result.
        let text = r#"{"jsonrpc":"2.0","id":1,"result":{"completion":{"values":[]},"content":[{"type":"text","text":"hi"}]}}"#;
        let Ok(JsonRpcMessage::Response(r)) = server_message(text, Answer::ToolResult) else {
            panic!("not read");
        };
        assert!(
            matches!(&r.result, ServerResult::CallToolResult(t) if t.content.len() == 1),
            "{:?}",
            r.result
        );
        let Ok(JsonRpcMessage::Response(r)) = server_message(text, Answer::Any) else {
            panic!("not read");
        };
        assert!(matches!(r.result, ServerResult::CompleteResult(_)));
    }

    #[test]
    fn requests_and_answers_name_what_they_are_read_as() {
        let text = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}"#;
        let Ok(JsonRpcMessage::Request(r)) =
            client_message(text.as_bytes(), Envelope::read(text.as_bytes()).unwrap())
        else {
            panic!("not read");
        };
        assert_eq!(Answer::to(&r.request), Answer::ToolResult);
        // The relay's calls and their answers are read as their one type, not by the fallback.
        let typed = |t: &str| {
            Envelope::read(t.as_bytes()).is_some_and(|e| typed_client(t.as_bytes(), e).is_some())
        };
        for call in [
            text,
            r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"p"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///x"}}"#,
        ] {
            assert!(typed(call), "{call}");
        }
        assert!(!typed(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#));
        for (answer, kind) in [
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}}"#,
                Answer::ToolResult,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"messages":[]}}"#,
                Answer::Prompt,
            ),
            (
                r#"{"jsonrpc":"2.0","id":1,"result":{"contents":[]}}"#,
                Answer::Contents,
            ),
        ] {
            let shape = Envelope::read(answer.as_bytes()).map(|e| e.shape);
            assert!(typed_server(answer, shape, kind).is_some(), "{answer}");
            assert!(
                typed_server(answer, shape, Answer::Any).is_none(),
                "{answer}"
            );
        }
        let task = r#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"task","taskId":"t","status":"working","createdAt":"2026-01-01T00:00:00Z","lastUpdatedAt":"2026-01-01T00:00:00Z"}}"#;
        assert!(typed_server(task, Some(Shape::Response), Answer::ToolResult).is_none());
        assert_eq!(
            Answer::to(&ClientRequest::ListToolsRequest(Default::default())),
            Answer::Any
        );
    }
}
