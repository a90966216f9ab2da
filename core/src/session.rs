//! Per-connection state: selected database, protocol version, identity.

use std::sync::Arc;

use ferrokv_protocol::RespVersion;

use crate::blocking::Waiter;
use crate::clients::ClientHandle;
use crate::storage::DbIndex;

/// State of one client connection, owned by the connection task and passed to every
/// command it runs.
#[derive(Debug)]
pub struct Session {
    /// Selected database (`SELECT`).
    pub db: DbIndex,
    /// Protocol spoken on the wire (`HELLO`).
    pub resp: RespVersion,
    /// The shared view other clients see in `CLIENT LIST` and `CLIENT KILL`.
    pub client: Arc<ClientHandle>,
    /// Set by `QUIT` and protocol errors: the server closes after this reply.
    pub close_after_reply: bool,
    /// Set by a blocking command that parked the client: the connection waits for
    /// this waiter's reply instead of sending the command's.
    pub blocked: Option<Arc<Waiter>>,
    /// Blocking commands answer at once as their timeout would (inside MULTI, and
    /// while a waiter's command is re-run to serve it).
    pub no_block: bool,
    /// Set while a waiter's command is re-run to serve it (not inside MULTI), so a
    /// command can answer what Redis answers a client it unblocks (XREADGROUP
    /// whose group was destroyed meanwhile).
    pub serving: bool,
    /// Keys a command wrote beyond its declared key positions (`SORT ... STORE`),
    /// so that clients blocked on them are served too.
    pub extra_written_keys: Vec<bytes::Bytes>,
    /// Channels, patterns and shard channels subscribed, and the delivery queue.
    pub pubsub: crate::pubsub::ClientPubSub,
    /// Commands queued since `MULTI`; `None` outside a transaction.
    pub multi: Option<crate::commands::transactions::MultiState>,
    /// Keys this connection `WATCH`es; unwatched on `EXEC`, `DISCARD`, `UNWATCH`,
    /// `RESET` and when the session is dropped (disconnect).
    pub watched: crate::watch::WatchSet,
    /// `CLIENT CACHING yes|no` given for the next command (OPTIN/OPTOUT tracking).
    pub tracking_caching: bool,
    /// Invalidations this client's own command caused, sent after its reply.
    pub pending_invalidations: crate::tracking::Pending,
    /// Position of the push queue when a tracking client's command finished inside
    /// its scope: the server sends the frames queued before it ahead of the reply
    /// and later ones after, so an invalidation of a key this command read always
    /// follows the value read.
    pub push_mark: Option<u64>,
    /// `CLIENT REPLY off` is in effect.
    pub reply_off: bool,
    /// `CLIENT REPLY skip`: the reply of the current command is not sent.
    pub reply_skip: bool,
    /// `CLIENT REPLY skip` was just run: skip the next command's reply.
    pub reply_skip_next: bool,
    /// Set by the engine: the reply of the command just executed must not be sent
    /// (`CLIENT REPLY off|skip`).
    pub suppress_reply: bool,
    /// Work a command left to run once its storage scope is released (a snapshot
    /// cannot be taken while the command holds locks).
    pub deferred: Option<crate::persistence::Deferred>,
    /// Commands to propagate for the unit being run (see [`crate::propagate`]).
    pub propagation: crate::propagate::Pending,
}

impl Session {
    /// A fresh session for a registered client: db 0, RESP2.
    pub fn new(client: Arc<ClientHandle>) -> Session {
        Session {
            db: 0,
            resp: RespVersion::Resp2,
            client,
            close_after_reply: false,
            blocked: None,
            no_block: false,
            serving: false,
            extra_written_keys: Vec::new(),
            pubsub: Default::default(),
            deferred: None,
            multi: None,
            watched: crate::watch::WatchSet::default(),
            tracking_caching: false,
            pending_invalidations: Vec::new(),
            push_mark: None,
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            suppress_reply: false,
            propagation: Default::default(),
        }
    }

    /// The client's unique id (`CLIENT ID`).
    pub fn id(&self) -> u64 {
        self.client.id
    }
}
