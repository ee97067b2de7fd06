//! What a set of tool definitions costs a client: the number of tokens their JSON takes in a
//! model's context, counted with OpenAI's `o200k_base` byte-pair encoding (the `tiktoken-rs`
//! crate). Other models tokenize differently, so the figure is an estimate of the order of
//! magnitude, which is what a user choosing a profile needs.

use std::sync::OnceLock;

use rmcp::model::Tool;
use tiktoken_rs::CoreBPE;

/// The encoder, loaded once (its tables are embedded in the binary).
fn encoder() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()).as_ref()
}

/// Tokens of `text` (`None` when the encoder could not be loaded).
pub fn count(text: &str) -> Option<usize> {
    encoder().map(|bpe| bpe.encode_ordinary(text).len())
}

/// Tokens of `tools`' definitions as a `tools/list` result carries them (name, title,
/// description, schemas, annotations), estimated with `o200k_base`.
pub fn of_tools(tools: &[Tool]) -> Option<usize> {
    count(&serde_json::to_string(tools).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_real_tokens() {
        assert_eq!(count("hello world"), Some(2));
        let tool = Tool::new(
            "get_weather".to_string(),
            "Get the weather for a city".to_string(),
            std::sync::Arc::new(serde_json::Map::new()),
        );
        let one = of_tools(std::slice::from_ref(&tool)).unwrap();
        let two = of_tools(&[tool.clone(), tool]).unwrap();
        assert!(one > 5 && two > one * 3 / 2, "{one} {two}");
    }
}
