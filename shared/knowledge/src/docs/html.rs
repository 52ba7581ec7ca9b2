//! Documentation HTML to clean markdown: the main content only, page furniture removed,
//! code blocks and tables kept (long tables cut with a note).

use ego_tree::NodeId;
use scraper::{Html, Node, Selector};

/// Rows kept of a long table.
pub const MAX_TABLE_ROWS: usize = 50;

/// Where the article lives on AWS documentation, re:Post and blog pages, best first.
const MAIN_SELECTORS: &[&str] = &[
    "#main-content",
    "main",
    ".awsui-article",
    "article",
    "#aws-page-content",
    "[role=main]",
    "body",
];

/// Page furniture removed from inside the article.
const NOISE_SELECTORS: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "nav",
    "header",
    "footer",
    "form",
    "button",
    "svg",
    "[aria-hidden=true]",
    "[class*=feedback]",
    "[id*=feedback]",
    "[class*=cookie]",
    "[id*=cookie]",
    "[class*=breadcrumb]",
    "[id*=breadcrumb]",
    "[class*=prev-next]",
    "[class*=page-toc]",
    "[class*=copy-button]",
    "awsdocs-feedback",
    "awsdocs-page-header",
    "awsdocs-copyright",
    "awsdocs-thumb-feedback",
];

fn selector(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

/// The page title (`<title>` or the first `h1`).
pub fn title(doc: &Html) -> Option<String> {
    for sel in ["h1", "title"] {
        if let Some(s) = selector(sel)
            && let Some(el) = doc.select(&s).next()
        {
            let text: String = el.text().collect::<Vec<_>>().join(" ");
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !text.is_empty() {
                return Some(text);
            }
        }
    }
    None
}

/// Converts a documentation page to markdown.
pub fn page_to_markdown(html: &str) -> (String, Option<String>) {
    let mut doc = Html::parse_document(html);
    let page_title = title(&doc);
    let main_id = MAIN_SELECTORS
        .iter()
        .filter_map(|s| selector(s))
        .find_map(|s| doc.select(&s).next().map(|e| e.id()));
    let Some(main_id) = main_id else {
        return (String::new(), page_title);
    };

    // Collect first, then mutate: the tree cannot change while it is being walked.
    let mut remove: Vec<NodeId> = Vec::new();
    if let Some(main) = doc.tree.get(main_id).and_then(scraper::ElementRef::wrap) {
        for s in NOISE_SELECTORS.iter().filter_map(|s| selector(s)) {
            remove.extend(main.select(&s).map(|e| e.id()));
        }
    }
    for id in remove {
        if id != main_id
            && let Some(mut node) = doc.tree.get_mut(id)
        {
            node.detach();
        }
    }
    cut_long_tables(&mut doc, main_id);

    let Some(main) = doc.tree.get(main_id).and_then(scraper::ElementRef::wrap) else {
        return (String::new(), page_title);
    };
    let converter = htmd::HtmlToMarkdown::builder()
        .skip_tags(vec!["script", "style", "img"])
        .build();
    let markdown = converter.convert(&main.html()).unwrap_or_default();
    (tidy(&markdown), page_title)
}

/// Keeps the first [`MAX_TABLE_ROWS`] rows of every table and says how many were left out.
fn cut_long_tables(doc: &mut Html, main_id: NodeId) {
    let (Some(tables), Some(rows)) = (selector("table"), selector("tr")) else {
        return;
    };
    let mut plans: Vec<(NodeId, Vec<NodeId>)> = Vec::new();
    if let Some(main) = doc.tree.get(main_id).and_then(scraper::ElementRef::wrap) {
        for table in main.select(&tables) {
            let all: Vec<NodeId> = table.select(&rows).map(|r| r.id()).collect();
            if all.len() > MAX_TABLE_ROWS + 1 {
                // The first row is usually the header; keep it plus MAX_TABLE_ROWS.
                plans.push((table.id(), all[MAX_TABLE_ROWS + 1..].to_vec()));
            }
        }
    }
    for (table, extra) in plans {
        let dropped = extra.len();
        for id in extra {
            if let Some(mut row) = doc.tree.get_mut(id) {
                row.detach();
            }
        }
        if let Some(mut t) = doc.tree.get_mut(table) {
            let note = format!(
                "\n\n[Table cut: {dropped} more rows not shown; read the page in the browser for the full table.]\n\n"
            );
            t.insert_after(Node::Text(scraper::node::Text { text: note.into() }));
        }
    }
}

/// Collapses runs of blank lines and trims trailing spaces.
fn tidy(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut blank = 0;
    for line in markdown.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_article_and_drops_furniture() {
        let html = r#"<html><head><title>T</title><script>var x=1;</script></head><body>
            <header>Site header</header><nav>Left nav</nav>
            <main id="main-content"><h1>Welcome</h1><p>Intro with <code>inline</code>.</p>
            <div class="feedback">Did this page help you?</div>
            <pre><code class="language-python">print("hi")</code></pre>
            <table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
            </main><footer>Copyright</footer></body></html>"#;
        let (md, title) = page_to_markdown(html);
        assert_eq!(title.as_deref(), Some("Welcome"));
        assert!(md.contains("# Welcome"), "{md}");
        assert!(md.contains("```"), "{md}");
        assert!(md.contains("print(\"hi\")"), "{md}");
        assert!(md.contains("| A | B |") || md.contains("| A |"), "{md}");
        for noise in [
            "Site header",
            "Left nav",
            "Did this page help",
            "Copyright",
            "var x",
        ] {
            assert!(!md.contains(noise), "{noise} left in {md}");
        }
    }

    #[test]
    fn long_tables_are_cut_with_a_note() {
        let rows: String = (0..120)
            .map(|i| format!("<tr><td>r{i}</td></tr>"))
            .collect();
        let html = format!(
            "<html><body><main><table><tr><th>H</th></tr>{rows}</table></main></body></html>"
        );
        let (md, _) = page_to_markdown(&html);
        assert!(md.contains("r49"), "{md}");
        assert!(!md.contains("r50 "), "{md}");
        assert!(md.contains("70 more rows not shown"), "{md}");
    }
}
