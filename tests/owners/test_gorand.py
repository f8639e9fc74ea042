"""Go's math/rand as Prow's approve plugin uses it: known outputs of rand.New(rand.NewSource(1))."""
from shared.owners.gorand import GoRand


def test_the_sequence_go_gives_for_seed_one():
    r = GoRand(1)
    assert [r.int63(), r.int63()] == [5577006791947779410, 8674665223082153551]
    r = GoRand(1)
    assert [r.intn(100) for _ in range(10)] == [81, 87, 47, 59, 81, 18, 25, 40, 56, 0]


def test_perm_is_a_permutation_fixed_by_the_seed():
    assert sorted(GoRand(1234).perm(50)) == list(range(50))
    assert GoRand(1234).perm(50) == GoRand(1234).perm(50) != GoRand(1235).perm(50)
