"""Recommender systems: collaborative filtering from ember layers (biased matrix factorization;
NCF's GMF, MLP and NeuMF), `recommend(user, k)`, and ranking evaluation (leave-one-out, sampled
negatives, hit rate and nDCG at k). MovieLens loads from `ember.datasets.movielens`."""

from ember.recommenders.models import IdPairs, MatrixFactorization, NeuralCollaborativeFiltering, Recommender, as_pairs
from ember.recommenders.ranking import (evaluate_ranking, hit_rate_at_k, leave_one_out, ndcg_at_k,
                                        with_negatives)

__all__ = ["MatrixFactorization", "NeuralCollaborativeFiltering", "Recommender", "IdPairs", "as_pairs",
           "evaluate_ranking", "hit_rate_at_k", "ndcg_at_k", "leave_one_out", "with_negatives"]
