//! The projection discriminator's class term (Miyato and Koyama 2018, "cGANs with Projection
//! Discriminator", eq. 3): D(x, y) = psi(phi(x)) + embed(y)^T phi(x), phi(x) the features D's
//! last Linear layer (psi) reads and embed an nn.Embedding(classes, features) table. The table
//! sits after the network's own parameters in D's flat buffers, so one Adam dispatch steps both.

use super::network::Network;
use super::{Op, View};
use crate::ops::{Activation, EmbedSpec};

/// Where a projection's table, its gradient and the batch's labels are.
#[derive(Clone, Copy, Debug)]
pub struct Projection {
    pub classes: usize,
    /// Features per row (the width of phi).
    pub dim: usize,
    pub table: View,
    pub dtable: View,
    /// The label of each row the network is run on (u32).
    pub labels: View,
}

impl Projection {
    fn spec(&self, rows: usize) -> EmbedSpec {
        EmbedSpec {
            rows,
            classes: self.classes,
            dim: self.dim,
            z_dim: 0,
        }
    }

    /// logit += embed(y)^T phi(x), after `net`'s forward over `rows` rows of `input` (the
    /// logits where that forward wrote them, `out` or its own workspace).
    pub fn forward(&self, net: &Network, input: View, rows: usize, out: Option<View>) -> Op {
        Op::ProjectionForward {
            spec: self.spec(rows),
            table: self.table,
            labels: self.labels,
            phi: net.features(input),
            logits: net.output_view(out),
        }
    }

    /// The table's gradient from the logits' gradient `dlogit` and the features `phi`.
    pub fn table_grad(&self, phi: View, dlogit: View, rows: usize) -> Op {
        Op::ProjectionBackwardTable {
            spec: self.spec(rows),
            labels: self.labels,
            dlogit,
            phi,
            dtable: self.dtable,
        }
    }

    /// dphi = (dphi + dlogit embed(y)) * act'(h) in place: the class term's share of the
    /// features' gradient, through the activation `act` whose output `h` is phi.
    pub fn input_grad(
        &self,
        act: Activation,
        h: View,
        dlogit: View,
        dphi: View,
        rows: usize,
    ) -> Op {
        Op::ProjectionBackwardInput {
            spec: self.spec(rows),
            act,
            table: self.table,
            labels: self.labels,
            dlogit,
            h,
            dphi,
        }
    }
}
