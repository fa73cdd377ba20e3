import pytest

from neuron_groups.errors import ClassNameError
from neuron_groups.labels import imagenet_names, imagenet_synonyms, resolve_classes


def test_thousand_classes_in_standard_order():
    names = imagenet_names()
    assert len(names) == 1000
    assert names[0] == "tench" and names[207] == "golden retriever"
    assert names[208] == "Labrador retriever" and names[282] == "tiger cat"


def test_names_synonyms_case_and_indices():
    syn = imagenet_synonyms()
    assert resolve_classes(["labrador RETRIEVER", "tiger cat", 5], syn, 1000) == [208, 282, 5]
    assert resolve_classes(["Carassius auratus"], syn, 1000) == [1]


def test_unknown_name_lists_closest():
    with pytest.raises(ClassNameError, match="Did you mean 'Labrador retriever'"):
        resolve_classes(["Labrador retreiver"], imagenet_synonyms(), 1000)


def test_bad_index_and_type():
    with pytest.raises(ClassNameError, match=r"0\.\.999"):
        resolve_classes([1000], imagenet_synonyms(), 1000)
    with pytest.raises(ClassNameError, match="name or an index"):
        resolve_classes([2.5], imagenet_synonyms(), 1000)


def test_names_without_labels():
    with pytest.raises(ClassNameError, match="no class names"):
        resolve_classes(["cat"], None, 10)
