"""The backend-specific adversarial step: updates both networks, moves the EMA, loads back."""

import numpy as np

from medmodels.gan.models import TrainConfig, build_ecg_discriminator, build_ecg_generator, make_gan_class
from medmodels.gan.train import train_gan


def test_gan_steps_update_both_networks_and_the_moving_average(tmp_path):
    g, ema = build_ecg_generator(24, 2, 3, seed=1), build_ecg_generator(24, 2, 3, seed=1, name="ema")
    d = build_ecg_discriminator(24, 2, 3, seed=2)
    gan = make_gan_class()(g, d, ema, TrainConfig(ema_decay=0.5))
    before_g, before_d = [w.copy() for w in g.get_weights()], [w.copy() for w in d.get_weights()]
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 4
    real = [rng.standard_normal((64, 24, 2)).astype(np.float32), rng.standard_normal((64, 3)).astype(np.float32)]
    history = train_gan(gan, real, labels, 4, g.inputs[0].shape[-1], steps=3, seed=0, batch_size=16, log_every=3)
    assert np.isfinite(history[-1]["d_loss"]) and np.isfinite(history[-1]["g_loss"])
    assert any(not np.allclose(a, b) for a, b in zip(before_g, g.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(before_d, d.get_weights()))
    moved = [not np.allclose(a, b) for a, b in zip(before_g, ema.get_weights())]
    assert any(moved)
    path = tmp_path / "g.weights.h5"
    ema.save_weights(str(path))
    fresh = build_ecg_generator(24, 2, 3, seed=9)
    fresh.load_weights(str(path))
    z, y = rng.standard_normal((2, g.inputs[0].shape[-1])).astype(np.float32), np.array([0, 1], np.int32)
    assert np.allclose(np.asarray(fresh.predict_on_batch([z, y])[0]), np.asarray(ema.predict_on_batch([z, y])[0]))
