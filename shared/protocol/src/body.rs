//! The body of a Streamable HTTP answer: either buffered bytes, or a server-sent event
//! stream that carries a tool's progress notifications and elicitation requests before the
//! JSON-RPC response that ends it.
//!
//! [`HttpBody`] implements [`http_body::Body`], so hyper can send it as it is produced; a
//! buffered transport (the Lambda adapter) reads it whole with [`HttpBody::collect_bytes`].

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::jsonrpc::{self, RpcError};
use crate::server::ConnectionSlot;

/// An HTTP answer body.
pub struct HttpBody {
    inner: Inner,
}

enum Inner {
    /// `None` once sent.
    Full(Option<Bytes>),
    Events(Box<EventStream>),
}

impl HttpBody {
    pub fn empty() -> Self {
        Self {
            inner: Inner::Full(None),
        }
    }

    pub fn full(bytes: Bytes) -> Self {
        Self {
            inner: Inner::Full((!bytes.is_empty()).then_some(bytes)),
        }
    }

    pub(crate) fn events(stream: EventStream) -> Self {
        Self {
            inner: Inner::Events(Box::new(stream)),
        }
    }

    /// Whether this is an event stream (rather than buffered bytes).
    pub fn is_stream(&self) -> bool {
        matches!(self.inner, Inner::Events(_))
    }

    /// The buffered bytes, if this body is buffered and not yet sent.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.inner {
            Inner::Full(b) => b.as_ref(),
            Inner::Events(_) => None,
        }
    }

    /// Reads the whole body; for an event stream, waits until the stream ends.
    pub async fn collect_bytes(mut self) -> Bytes {
        let mut out = Vec::new();
        while let Some(chunk) = poll_fn(|cx| self.poll_chunk(cx)).await {
            out.extend_from_slice(&chunk);
        }
        Bytes::from(out)
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn next_chunk(&mut self) -> Option<Bytes> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    pub(crate) fn slot_mut(&mut self) -> Option<&mut Option<ConnectionSlot>> {
        match &mut self.inner {
            Inner::Full(_) => None,
            Inner::Events(s) => Some(&mut s.slot),
        }
    }

    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        match &mut self.inner {
            Inner::Full(b) => Poll::Ready(b.take()),
            Inner::Events(s) => s.poll_next(cx),
        }
    }
}

impl From<Bytes> for HttpBody {
    fn from(bytes: Bytes) -> Self {
        Self::full(bytes)
    }
}

impl std::fmt::Debug for HttpBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Full(b) => f.debug_tuple("HttpBody::Full").field(b).finish(),
            Inner::Events(_) => f.write_str("HttpBody::Events"),
        }
    }
}

impl http_body::Body for HttpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .poll_chunk(cx)
            .map(|c| c.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.inner, Inner::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Events(_) => SizeHint::default(),
        }
    }
}

/// What a streamed call produced first.
pub(crate) enum First {
    /// The result, with nothing sent before it: answer plain JSON.
    Answer(Option<Value>),
    /// Messages came before the result: answer with the event stream.
    Events,
}

/// A running request whose messages to the client become SSE events, its response last.
pub(crate) struct EventStream {
    queue: VecDeque<Bytes>,
    messages: mpsc::UnboundedReceiver<Value>,
    /// `None` once the request has finished and its response is queued.
    task: Option<JoinHandle<Option<Value>>>,
    request_id: Value,
    /// Keeps the caller's concurrency slot for as long as the stream runs.
    pub(crate) slot: Option<ConnectionSlot>,
}

impl EventStream {
    pub(crate) fn new(
        messages: mpsc::UnboundedReceiver<Value>,
        task: JoinHandle<Option<Value>>,
        request_id: Value,
    ) -> Self {
        Self {
            queue: VecDeque::new(),
            messages,
            task: Some(task),
            request_id,
            slot: None,
        }
    }

    /// Waits until the request either sends a message or finishes.
    pub(crate) async fn first(&mut self) -> First {
        poll_fn(|cx| {
            if let Poll::Ready(Some(m)) = self.messages.poll_recv(cx) {
                self.queue.push_back(event(&m));
                return Poll::Ready(First::Events);
            }
            let Some(task) = self.task.as_mut() else {
                return Poll::Ready(First::Answer(None));
            };
            match Pin::new(task).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(joined) => {
                    self.task = None;
                    let answer = self.answer(joined);
                    // A message sent just before the end still has to reach the client.
                    let mut early = false;
                    while let Ok(m) = self.messages.try_recv() {
                        self.queue.push_back(event(&m));
                        early = true;
                    }
                    if early {
                        if let Some(a) = answer {
                            self.queue.push_back(event(&a));
                        }
                        Poll::Ready(First::Events)
                    } else {
                        Poll::Ready(First::Answer(answer))
                    }
                }
            }
        })
        .await
    }

    fn answer(&self, joined: Result<Option<Value>, tokio::task::JoinError>) -> Option<Value> {
        match joined {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, "request task failed");
                Some(jsonrpc::error_response(
                    &self.request_id,
                    &RpcError::internal("the request failed inside the server"),
                ))
            }
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        loop {
            if let Some(b) = self.queue.pop_front() {
                return Poll::Ready(Some(b));
            }
            let Some(task) = self.task.as_mut() else {
                self.slot = None;
                return Poll::Ready(None);
            };
            if let Poll::Ready(Some(m)) = self.messages.poll_recv(cx) {
                self.queue.push_back(event(&m));
                continue;
            }
            match Pin::new(task).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(joined) => {
                    self.task = None;
                    while let Ok(m) = self.messages.try_recv() {
                        self.queue.push_back(event(&m));
                    }
                    if let Some(a) = self.answer(joined) {
                        self.queue.push_back(event(&a));
                    }
                }
            }
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        // The client went away (or the answer was abandoned): stop the tool, which also
        // withdraws any elicitation it was waiting on.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// One SSE event carrying one JSON-RPC message.
fn event(message: &Value) -> Bytes {
    // Compact JSON has no raw newlines, so one `data:` line holds the whole message.
    let json = serde_json::to_string(message).unwrap_or_default();
    Bytes::from(format!("event: message\ndata: {json}\n\n"))
}
