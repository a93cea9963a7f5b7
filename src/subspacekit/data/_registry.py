"""Expected SHA-256 digests and public sources of the shared benchmark files.

The digests were computed from the files in the shared data folder when the loaders
were written; a file whose digest differs has been corrupted or replaced, and is
refused rather than analysed. Sources are those given in each data set's README.
"""

from __future__ import annotations

__all__ = ["CHECKSUMS", "ODDS_SETS", "SOURCES"]

# relative path (inside the data root) -> SHA-256 of the file's bytes
CHECKSUMS: dict[str, str] = {
    "acm/acm.mat": "c87ee21d81218c41bdde1d66a10080835899a1f45d6d6cdefa11859148fba3b3",
    "coil20/COIL20.mat": "2a35c105dbb327492b90389e55612bcbf39187bc7c408252239903e4ce7d6958",
    "cora/cora.npz": "068e22d90c3849b4057dfb05851741428992af058efcd4e7ebb4186f3d581de2",
    "cora/cora_planetoid.npz": "5fcf6da0f591d14d2f129d8c1cb0897bb0f92409f0cbf402e2cdba289b8996f3",
    "extended_yale_b/ExtendedYaleB.mat": (
        "27381c31d45c36202f30fbef5b3a1e0bb36e6101b5c52123351b7e7ee100355c"
    ),
    "mnist_test/t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "mnist_test/t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
    "odds/annthyroid.mat": "17a1012d005f2179eca3b87c0028eb5ca807794b359c33fa1f8ca5ac846c514f",
    "odds/arrhythmia.mat": "e4d47e499591ae31e5d7f0cd983367092353eac240f48e14c9b36457edb3460d",
    "odds/breastw.mat": "a2e3f7c7f61ddde87c4373f0c0539de996227b9659c70b3c227948ebf0c6062b",
    "odds/cardio.mat": "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b",
    "odds/glass.mat": "2c506e6e1e2ca1e82a905d10a90773151ff812c4bd969c71a12db5b2bb6e7921",
    "odds/ionosphere.mat": "8ac5dfa6f47db4acdfe10615489b7f7dd015d79d5b381ce641e72baca3cfefb0",
    "odds/letter.mat": "f4a229b0e2a6b0c9157ce27fa760bcbac0f948cd690b2f5d51c120e5450f2195",
    "odds/lympho.mat": "031b907ecb50347720b08b38f8139d05635adeca9335a064d89d5569c27a5834",
    "odds/mammography.mat": "271ebb568314a856666d3504b4882e21b0ea6e1ba9e648ad256d572a36df597e",
    "odds/mnist.mat": "9479e221f236684c09f3e11c7ad124725d34ecd301b9450425e8b113368413a6",
    "odds/musk.mat": "50bbf414caceb66cfe6f6b1eb7c1ff7c6eb1e6d87173f7bb597ba55cd3dc5493",
    "odds/optdigits.mat": "30c664cd6f3740a173277a27cd1028d471b06f0835a9902c9712749cec58c1c4",
    "odds/pendigits.mat": "7bc32ac83b3d583443acea8b1342a54aaa59eaedb9996af405322f473f3c22bc",
    "odds/pima.mat": "b6a5be8d548b9293d6958beceb1c77055591714d25d40d957eba87808456468f",
    "odds/satimage-2.mat": "95c37a07cea2cb201f6900d14f521510e10b6b2f0074c06ac46d3157440ec67b",
    "odds/shuttle.mat": "b6e396c92354d5dcf5036901e36dc58e2913f2d1a5e138c35a2bedf9c69db899",
    "odds/thyroid.mat": "49155d7861b977e90808faf68343ff67a67f63090c2744d514dbb67ac68e7e33",
    "odds/vertebral.mat": "84b50b055f118f54b5c976650ccd284ab7c1adee822f8b3eb517c7e2c890d15e",
    "odds/vowels.mat": "51d5397bad1ceeda22b7cd44fd58125c5d603c9c2edb53aa59933330e259ac7b",
    "odds/wbc.mat": "afe6b26953cc196b9a480318c903e0edef22529c2f61bd02082438c6e70630a7",
    "pubmed_partial/pubmed_partial_planetoid.npz": (
        "3c745a1adb1c2f76cb0a673c00e594997ae37a639f7142aba35297b546bee280"
    ),
    "tiny_shakespeare/input.txt": (
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    ),
    "usps/usps_data.mat": "9c9d397244e764afab60be139e2ba40919e1c5f6eb60dd21551a1cfc07e26543",
    "usps/usps_label.mat": "c12d14da1076ccf3ad992e82009d38c1c056c2ea8218735a6194b279ac7ddeb7",
    "wiki/wiki.mat": "1b59b0b19cbf398bbc5c1c940f3c262300bcd56dae04890094666f9d220533b3",
    "wikitext2_valid_test/test.txt": (
        "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0"
    ),
    "wikitext2_valid_test/valid.txt": (
        "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8"
    ),
}

_PYOD = "GitHub yzhao062/pyod, folder notebooks/data/ (ODDS library, odds.cs.stonybrook.edu)"

# data set folder -> where its files come from (named in "file missing" errors)
SOURCES: dict[str, str] = {
    "acm": "GitHub HKBU-LAGAS/S2CAG, path data/acm.mat (commit 51c56796)",
    "coil20": (
        "GitHub panji530/Deep-subspace-clustering-networks, path Data/COIL20.mat (commit 4aa83542)"
    ),
    "cora": (
        "cora_planetoid.npz is converted from GitHub kimiyoung/planetoid data/ind.cora.* "
        "(commit af6abf46) with the GCN recipe described in the folder README; cora.npz is "
        "GitHub shchur/gnn-benchmark data/npz/cora.npz (commit 1e72912a)"
    ),
    "extended_yale_b": "GitHub zwapimeow/ijcai2019, path ExtendedYaleB.mat (commit b73866d9)",
    "mnist_test": (
        "the official MNIST test split t10k-*-idx*-ubyte.gz (Y. LeCun et al.), here from "
        "GitHub RahulBaboota/MNIST, folder FLAGS.data_dir/ (commit 07115411)"
    ),
    "odds": _PYOD,
    "pubmed_partial": (
        "pubmed_partial_planetoid.npz is converted from GitHub kimiyoung/planetoid "
        "data/ind.pubmed.* (commit af6abf46) as described in the folder README"
    ),
    "tiny_shakespeare": (
        "GitHub karpathy/char-rnn, path data/tinyshakespeare/input.txt (commit 6f9487a6)"
    ),
    "usps": "GitHub zwapimeow/ijcai2019, paths usps_data.mat and usps_label.mat (commit b73866d9)",
    "wiki": "GitHub HKBU-LAGAS/S2CAG, path data/wiki.mat (commit 51c56796)",
    "wikitext2_valid_test": (
        "GitHub pytorch/examples, word_language_model/data/wikitext-2/{valid,test}.txt "
        "(commit 77f55b91); WikiText-2, Merity et al. 2016"
    ),
}

ODDS_SETS: tuple[str, ...] = tuple(
    sorted(path[len("odds/") : -len(".mat")] for path in CHECKSUMS if path.startswith("odds/"))
)
