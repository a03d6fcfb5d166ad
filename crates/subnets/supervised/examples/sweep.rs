//! Trains MLP settings given as `hidden,epochs,fraction,batch,lr,augment` and prints the
//! held-out accuracy, the mean score under a validator's secret transform and the training time.
use std::sync::Arc;
use std::time::Instant;
use tensornet_subnet::{Miner, Validator};
use tensornet_subnet_supervised::*;

fn main() {
    let d = Arc::new(Dataset::load(DatasetName::Digits));
    for arg in std::env::args().skip(1) {
        let p: Vec<&str> = arg.split(',').collect();
        if p.len() != 6 {
            eprintln!("skip {arg}: want hidden,epochs,fraction,batch,lr,augment");
            continue;
        }
        let cfg = MlpConfig {
            hidden: p[0].parse().unwrap_or(16),
            epochs: p[1].parse().unwrap_or(5),
            train_fraction: p[2].parse().unwrap_or(1.0),
            batch_size: p[3].parse().unwrap_or(64),
            learning_rate: p[4].parse().unwrap_or(0.01),
            augment_shifts: p[5] == "1",
            seed: 4,
        };
        let t = Instant::now();
        let Ok(m) = MlpMiner::train(&d, &cfg) else {
            continue;
        };
        let secs = t.elapsed().as_secs_f64();
        let req = SupervisedPredict {
            dataset: "digits".into(),
            features: d
                .held_out
                .x
                .iter()
                .map(|r| r.iter().map(|v| f64::from(*v)).collect())
                .collect(),
            outputs: None,
        };
        let Ok(out) = m.answer(req) else { continue };
        let held = reward(d.task, &d.held_out.y, out.outputs.as_deref(), 1.0);
        let mut v = SupervisedValidator::new(d.clone(), [7; 32], 100);
        let mut s = 0.0;
        for r in 0..10 {
            let (syn, l) = v.challenge(r);
            s += v.score(&l, &[m.answer(syn).ok()])[0] / 10.0;
        }
        println!("{arg:30} held {held:.4} transformed {s:.4} train {secs:.2}s");
    }
}
