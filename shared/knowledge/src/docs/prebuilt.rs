//! The search index generated ahead of time (`data/search_index.bin.gz`), so the first search
//! of a process opens it instead of building it.
//!
//! Layout, little-endian, gzip-compressed: magic, skills fingerprint (u64), average document
//! length (f32), documents (kind, names, title, URL, token count), then the sorted terms and,
//! per term, its postings as document-number deltas and term counts (LEB128 varints). Weights
//! and inverse document frequencies are recomputed on opening, exactly as at build time.

use std::io::Read;

use flate2::read::GzDecoder;
use thiserror::Error;

use super::index::{DocKind, IndexedDoc, Postings};

static PREBUILT_GZ: &[u8] = include_bytes!("../../data/search_index.bin.gz");
const MAGIC: &[u8; 8] = b"AWSIDX01";
/// The context returned with each hit, in blocks of `CONTEXT_BLOCK` documents compressed
/// apart, so a hit decompresses one block and the rest stays in the binary.
static CONTEXTS: &[u8] = include_bytes!("../../data/search_context.bin");
const CONTEXT_MAGIC: &[u8; 8] = b"AWSCTX01";
const CONTEXT_BLOCK: usize = 32;

#[derive(Debug, Error)]
pub enum PrebuiltError {
    #[error("prebuilt search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("prebuilt search index is malformed: {0}")]
    Malformed(&'static str),
}

/// What the file holds.
pub(crate) struct Prebuilt {
    pub(crate) avgdl: f32,
    pub(crate) docs: Vec<IndexedDoc>,
    pub(crate) postings: Postings,
}

/// The prebuilt index, if there is one and it was built from skills of this fingerprint.
pub(crate) fn open(fingerprint: u64) -> Result<Option<Prebuilt>, PrebuiltError> {
    if PREBUILT_GZ.is_empty() {
        return Ok(None);
    }
    let mut raw = Vec::new();
    GzDecoder::new(PREBUILT_GZ).read_to_end(&mut raw)?;
    decode(&raw, fingerprint)
}

/// The stored file, uncompressed (for the test that checks it is current).
#[cfg(test)]
pub(crate) fn stored_bytes() -> Result<Vec<u8>, PrebuiltError> {
    let mut raw = Vec::new();
    GzDecoder::new(PREBUILT_GZ).read_to_end(&mut raw)?;
    Ok(raw)
}

pub(crate) fn encode(
    fingerprint: u64,
    avgdl: f32,
    docs: &[IndexedDoc],
    postings: &Postings,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 << 20);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&avgdl.to_le_bytes());
    varint(&mut out, docs.len() as u64);
    for (doc, len) in docs.iter().zip(&postings.doc_len) {
        match &doc.kind {
            DocKind::Skill { name } => {
                out.push(0);
                string(&mut out, name);
            }
            DocKind::Api { service, operation } => {
                out.push(1);
                string(&mut out, service);
                string(&mut out, operation);
            }
        }
        string(&mut out, &doc.title);
        string(&mut out, &doc.url);
        varint(&mut out, u64::from(*len));
    }
    varint(&mut out, postings.terms.len() as u64);
    let mut prev_term = 0u32;
    for (t, &term) in postings.terms.iter().enumerate() {
        varint(&mut out, u64::from(term - prev_term));
        prev_term = term;
        let (from, to) = (postings.starts[t] as usize, postings.starts[t + 1] as usize);
        varint(&mut out, (to - from) as u64);
        let mut prev_doc = 0u32;
        for p in from..to {
            varint(&mut out, u64::from(postings.doc[p] - prev_doc));
            prev_doc = postings.doc[p];
            varint(&mut out, u64::from(postings.tf[p]));
        }
    }
    out
}

fn decode(raw: &[u8], fingerprint: u64) -> Result<Option<Prebuilt>, PrebuiltError> {
    let mut r = Reader { raw, at: 0 };
    if r.take(8)? != MAGIC {
        return Err(PrebuiltError::Malformed("not an index of this version"));
    }
    let stored = u64::from_le_bytes(r.array()?);
    if stored != fingerprint {
        return Ok(None);
    }
    let avgdl = f32::from_le_bytes(r.array()?);
    let n = r.count()?;
    let mut docs = Vec::with_capacity(n);
    let mut postings = Postings::default();
    postings.doc_len.reserve(n);
    for _ in 0..n {
        let kind = match r.take(1)?[0] {
            0 => DocKind::Skill { name: r.string()? },
            1 => DocKind::Api {
                service: r.string()?,
                operation: r.string()?,
            },
            _ => return Err(PrebuiltError::Malformed("unknown document kind")),
        };
        docs.push(IndexedDoc {
            kind,
            title: r.string()?,
            url: r.string()?,
        });
        postings.doc_len.push(r.u32()?);
    }
    let terms = r.count()?;
    postings.terms.reserve(terms);
    postings.starts.reserve(terms + 1);
    let mut term = 0u32;
    for _ in 0..terms {
        term = term
            .checked_add(r.u32()?)
            .ok_or(PrebuiltError::Malformed("term out of range"))?;
        postings.terms.push(term);
        postings.starts.push(postings.doc.len() as u32);
        let mut doc = 0u32;
        for _ in 0..r.count()? {
            doc = doc
                .checked_add(r.u32()?)
                .filter(|&d| (d as usize) < n)
                .ok_or(PrebuiltError::Malformed("document out of range"))?;
            postings.doc.push(doc);
            let tf = u16::try_from(r.varint()?)
                .map_err(|_| PrebuiltError::Malformed("term count out of range"))?;
            postings.tf.push(tf);
        }
    }
    postings.starts.push(postings.doc.len() as u32);
    postings.finish(avgdl);
    Ok(Some(Prebuilt {
        avgdl,
        docs,
        postings,
    }))
}

/// Layout: magic, block count (u32), block end offsets (u32 each, from the end of the table),
/// then the gzip blocks, each the texts of its documents as length-prefixed strings.
pub(crate) fn encode_contexts(contexts: &[String]) -> std::io::Result<Vec<u8>> {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let mut blocks = Vec::new();
    let mut ends = Vec::new();
    for chunk in contexts.chunks(CONTEXT_BLOCK) {
        let mut raw = Vec::new();
        for text in chunk {
            string(&mut raw, text);
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&raw)?;
        blocks.extend_from_slice(&gz.finish()?);
        ends.push(blocks.len() as u32);
    }
    let mut out = Vec::with_capacity(blocks.len() + 4 * ends.len() + 12);
    out.extend_from_slice(CONTEXT_MAGIC);
    out.extend_from_slice(&(ends.len() as u32).to_le_bytes());
    for end in ends {
        out.extend_from_slice(&end.to_le_bytes());
    }
    out.extend_from_slice(&blocks);
    Ok(out)
}

/// The stored context of a document; `None` when the file has none for it.
pub(crate) fn context(doc: usize) -> Option<String> {
    let header = CONTEXTS.get(..12)?;
    if &header[..8] != CONTEXT_MAGIC {
        return None;
    }
    let blocks = u32::from_le_bytes(header[8..12].try_into().ok()?) as usize;
    let block = doc / CONTEXT_BLOCK;
    if block >= blocks {
        return None;
    }
    let end_at = |i: usize| -> Option<usize> {
        let at = 12 + 4 * i;
        Some(u32::from_le_bytes(CONTEXTS.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    let data = 12 + 4 * blocks;
    let start = if block == 0 { 0 } else { end_at(block - 1)? };
    let gz = CONTEXTS.get(data + start..data + end_at(block)?)?;
    let mut raw = Vec::new();
    GzDecoder::new(gz).read_to_end(&mut raw).ok()?;
    let mut r = Reader { raw: &raw, at: 0 };
    for _ in 0..doc % CONTEXT_BLOCK {
        let n = r.count().ok()?;
        r.take(n).ok()?;
    }
    r.string().ok()
}

#[cfg(test)]
pub(crate) fn stored_contexts() -> Vec<u8> {
    CONTEXTS.to_vec()
}

pub(crate) fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

pub(crate) struct Reader<'a> {
    pub(crate) raw: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], PrebuiltError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.raw.len())
            .ok_or(PrebuiltError::Malformed("truncated"))?;
        let bytes = &self.raw[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], PrebuiltError> {
        self.take(N)?
            .try_into()
            .map_err(|_| PrebuiltError::Malformed("truncated"))
    }

    pub(crate) fn varint(&mut self) -> Result<u64, PrebuiltError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(PrebuiltError::Malformed("varint too long"))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, PrebuiltError> {
        u32::try_from(self.varint()?).map_err(|_| PrebuiltError::Malformed("number out of range"))
    }

    /// A count of items still to read, bounded by the bytes left (each item takes one or more).
    pub(crate) fn count(&mut self) -> Result<usize, PrebuiltError> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.raw.len() - self.at)
            .ok_or(PrebuiltError::Malformed("count out of range"))
    }

    pub(crate) fn string(&mut self) -> Result<String, PrebuiltError> {
        let n = self.count()?;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| PrebuiltError::Malformed("text is not UTF-8"))
    }
}
