//! Paging a markdown document by character offsets, with a table of contents.

use serde_json::{Value, json};

/// One window of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub content: String,
    pub total_length: usize,
    pub start_index: usize,
    pub end_index: usize,
    pub truncated: bool,
}

/// Cuts `[start, start + max)` in characters (never inside a UTF-8 sequence).
/// `None` when `start` is past the end of a non-empty document.
pub fn window(doc: &str, start: usize, max: usize) -> Option<Window> {
    let total = doc.chars().count();
    if start > total || (start == total && total > 0) {
        return None;
    }
    let content: String = doc.chars().skip(start).take(max).collect();
    let end = start + content.chars().count();
    Some(Window {
        content,
        total_length: total,
        start_index: start,
        end_index: end,
        truncated: end < total,
    })
}

/// Markdown headings with the character offset where each starts.
pub fn table_of_contents(doc: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    let mut in_code = false;
    for line in doc.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && trimmed.starts_with('#') {
            let level = trimmed.chars().take_while(|c| *c == '#').count();
            let title = trimmed[level..].trim();
            if (1..=6).contains(&level) && !title.is_empty() {
                out.push(json!({"title": title, "level": level, "start_index": offset}));
            }
        }
        offset += line.chars().count();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_tile_the_document_exactly() {
        let doc = "é".repeat(25) + &"abc".repeat(10);
        let mut rebuilt = String::new();
        let mut start = 0;
        loop {
            let w = window(&doc, start, 7).expect("window");
            assert_eq!(w.end_index - w.start_index, w.content.chars().count());
            rebuilt.push_str(&w.content);
            if !w.truncated {
                break;
            }
            start = w.end_index;
        }
        assert_eq!(rebuilt, doc);
        assert!(window(&doc, doc.chars().count(), 5).is_none());
        assert_eq!(window("", 0, 5).map(|w| w.total_length), Some(0));
    }

    #[test]
    fn toc_lists_headings_outside_code_with_offsets() {
        let doc = "# One\ntext\n```\n# not a heading\n```\n## Two é\nmore\n";
        let toc = table_of_contents(doc);
        assert_eq!(toc.len(), 2);
        assert_eq!(toc[1]["title"], "Two é");
        assert_eq!(toc[1]["level"], 2);
        let at = toc[1]["start_index"].as_u64().expect("offset") as usize;
        assert!(
            doc.chars()
                .skip(at)
                .collect::<String>()
                .starts_with("## Two")
        );
    }
}
