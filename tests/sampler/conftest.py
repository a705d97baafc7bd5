import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models step faster on one thread, and the result does not depend on the machine's cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def exact_float32_products():
    """float32 means float32 on a GPU too (no TF32 products) while a test runs."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


TINY_SECONDS = 16384 / 44100  # the e2e fixtures' song: 128 top tokens, two top windows and more
SPEC = dict(song_seconds=90.0, artist="Alan Jackson", genre="Country",
            lyrics="I met a traveller from an antique land", seed=11)
