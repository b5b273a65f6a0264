"""The papers behind the laws, and their BibTeX (``collapse cite LAW``).

A :class:`Reference` names a paper and the theorem of it that a law reproduces. Its
BibTeX keeps the fields apart, as BibTeX expects: ``journal``, ``volume`` and ``pages``
for an article, ``booktitle`` for a conference paper, and the arXiv identifier as
``eprint`` with ``archivePrefix = {arXiv}`` (the identifier alone, e.g. ``2404.01413``).
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "ALEMOHAMMAD",
    "ALEMOHAMMAD_BIAS",
    "BERTRAND",
    "DEY_DONOHO",
    "FERBACH",
    "DOHMATOB",
    "GERSTGRASSER",
    "KAZDAN",
    "SHUMAILOV",
    "SEDDIK",
    "SURESH",
    "DOHMATOB_TAILS",
    "STRONG_COLLAPSE",
    "GOLDEN_RATIO",
    "FENG_VERIFICATION",
    "PUBLISHED",
    "DERIVED_HERE",
    "RELEASE_DATE",
    "STATUSES",
    "Reference",
    "package_bibtex",
]

PUBLISHED = "published"
DERIVED_HERE = "derived here"
# A law's status: a paper states the formula (``published``, with the theorem or
# equation), or the package derived it in a paper's setting (``derived here``).
STATUSES = (PUBLISHED, DERIVED_HERE)


@dataclasses.dataclass(frozen=True)
class Reference:
    """A paper, and the theorem of it that a law reproduces.

    Attributes:
        key: the BibTeX key.
        authors: ``Last, First and Last, First ...`` (BibTeX's form).
        year: of publication.
        title: the paper's title.
        venue: the journal (an article), the proceedings (a conference paper) or
            ``arXiv preprint`` (a preprint).
        theorem: the statement reproduced (BibTeX ``note``).
        arxiv: the arXiv identifier (``eprint``), e.g. ``"2404.01413"``.
        doi: the DOI, without ``https://doi.org/``.
        volume, pages: of a journal article (``pages`` as ``755--759``).
        entry: the BibTeX entry type: ``article``, ``inproceedings`` or ``misc``
            (a preprint).
    """

    key: str
    authors: str
    year: int
    title: str
    venue: str
    theorem: str
    arxiv: str | None = None
    doi: str | None = None
    volume: str | None = None
    pages: str | None = None
    entry: str = "misc"

    def __post_init__(self):
        if self.entry not in ("article", "inproceedings", "misc"):
            raise ValueError(f"{self.key}: entry must be article, inproceedings or misc, got {self.entry!r}")

    def short(self) -> str:
        """``First author et al. year`` (or both names for two authors)."""
        names = [a.split(",")[0].strip() for a in self.authors.split(" and ")]
        who = names[0] if len(names) == 1 else (f"{names[0]} & {names[1]}" if len(names) == 2 else f"{names[0]} et al.")
        return f"{who} {self.year}"

    def bibtex(self, note: str | None = None) -> str:
        """The BibTeX entry; ``note`` (default: :attr:`theorem`) says what of the paper is used."""
        fields = [("author", self.authors), ("title", "{" + self.title + "}")]
        if self.entry == "article":
            fields += [("journal", self.venue), ("volume", self.volume), ("pages", self.pages)]
        elif self.entry == "inproceedings":
            fields.append(("booktitle", self.venue))
        else:
            fields.append(("howpublished", self.venue))
        fields.append(("year", str(self.year)))
        if self.arxiv:
            fields += [("eprint", self.arxiv), ("archivePrefix", "arXiv")]
        if self.doi:
            fields.append(("doi", self.doi))
        fields.append(("note", self.theorem if note is None else note))
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
        return f"@{self.entry}{{{self.key},\n{body}\n}}"


GERSTGRASSER = Reference(
    key="gerstgrasser2024collapse",
    authors="Gerstgrasser, Matthias and Schaeffer, Rylan and Dey, Apratim and Rafailov, Rafael and Sleight, Henry and "
    "Hughes, John and Korbak, Tomasz and Agrawal, Rajashree and Pai, Dhruv and Gromov, Andrey and Roberts, Daniel A. "
    "and Yang, Diyi and Donoho, David L. and Koyejo, Sanmi",
    year=2024,
    title="Is Model Collapse Inevitable? Breaking the Curse of Recursion by Accumulating Real and Synthetic Data",
    venue="arXiv preprint",
    theorem="Accumulating data in linear regression: test error sigma^2 d/(T-d-1) sum 1/i^2 "
    "<= pi^2/6 sigma^2 d/(T-d-1)",
    arxiv="2404.01413",
)
DOHMATOB = Reference(
    key="dohmatob2024demystified",
    authors="Dohmatob, Elvis and Feng, Yunzhen and Kempe, Julia",
    year=2024,
    title="Model Collapse Demystified: The Case of Regression",
    venue="Advances in Neural Information Processing Systems 37 (NeurIPS 2024)",
    theorem="Replace, OLS: the test error grows linearly in the number of generations",
    arxiv="2402.07712",
    entry="inproceedings",
)
SHUMAILOV = Reference(
    key="shumailov2024collapse",
    authors="Shumailov, Ilia and Shumaylov, Zakhar and Zhao, Yiren and Papernot, Nicolas and Anderson, Ross and "
    "Gal, Yarin",
    year=2024,
    title="AI models collapse when trained on recursively generated data",
    venue="Nature",
    volume="631",
    pages="755--759",
    theorem="Theorem 3.1 (Gaussian model collapse): Sigma_n -> 0 almost surely, E W2^2 -> infinity",
    doi="10.1038/s41586-024-07566-y",
    entry="article",
)
KAZDAN = Reference(
    key="kazdan2024thrive",
    authors="Kazdan, Joshua and Schaeffer, Rylan and Dey, Apratim and Gerstgrasser, Matthias and Rafailov, Rafael and "
    "Donoho, David L. and Koyejo, Sanmi",
    year=2024,
    title="Collapse or Thrive? Perils and Promises of Synthetic Data in a Self-Generating World",
    venue="arXiv preprint",
    theorem="Multivariate Gaussian refitting under replace and accumulate (MLE covariance)",
    arxiv="2410.16713",
)
DEY_DONOHO = Reference(
    key="dey2024universality",
    authors="Dey, Apratim and Donoho, David L.",
    year=2024,
    title="Universality of the $\\pi^2/6$ Pathway in Avoiding Model Collapse",
    venue="arXiv preprint",
    theorem="Accumulation keeps the error bounded (the pi^2/6 pathway)",
    arxiv="2410.22812",
)
ALEMOHAMMAD = Reference(
    key="alemohammad2024mad",
    authors="Alemohammad, Sina and Casco-Rodriguez, Josue and Luzi, Lorenzo and Humayun, Ahmed Imtiaz and "
    "Babaei, Hossein and LeJeune, Daniel and Siahkoohi, Ali and Baraniuk, Richard G.",
    year=2024,
    title="Self-Consuming Generative Models Go MAD",
    venue="The Twelfth International Conference on Learning Representations (ICLR 2024)",
    theorem="The fresh data loop: with enough fresh real samples in every generation the model does not collapse",
    arxiv="2307.01850",
    entry="inproceedings",
)
# The same paper's Gaussian model with sampling bias: the tempered laws' reference.
ALEMOHAMMAD_BIAS = dataclasses.replace(
    ALEMOHAMMAD,
    theorem="The Gaussian model with sampling bias lambda: synthetic samples from N(mu_t, lambda Sigma_t), so "
    "E[Sigma_t | Sigma_{t-1}] = lambda Sigma_{t-1} in the fully synthetic loop (sampling bias speeds the collapse "
    "of the covariance); the fresh data loop's limiting distance and effective sample size",
)
# Curation by a reward: the curation laws' reference (experiments/laws/curation.py).
FERBACH = Reference(
    key="ferbach2024curated",
    authors="Ferbach, Damien and Bertrand, Quentin and Bose, Avishek Joey and Gidel, Gauthier",
    year=2024,
    title="Self-Consuming Generative Models with Curated Data Provably Optimize Human Preferences",
    venue="Advances in Neural Information Processing Systems 37 (NeurIPS 2024)",
    theorem="Curation by a Bradley-Terry/Luce choice among K samples: as K -> oo the update is the exponential tilt "
    "p_{t+1} = p_t e^r / E_{p_t} e^r, which raises the expected reward; with real data in every generation the loop "
    "is stable",
    arxiv="2407.09499",
    entry="inproceedings",
)
# Retraining on a *fixed* real dataset plus synthetic data (the setting of the augment
# regime), not the fresh-data loop of ``mix``; no registered law cites it today.
BERTRAND = Reference(
    key="bertrand2024stability",
    authors="Bertrand, Quentin and Bose, Avishek Joey and Duplessis, Alexandre and Jiralerspong, Marco and "
    "Gidel, Gauthier",
    year=2024,
    title="On the Stability of Iterative Retraining of Generative Models on their own Data",
    venue="The Twelfth International Conference on Learning Representations (ICLR 2024)",
    theorem="Iterative retraining on a fixed real dataset mixed with synthetic data is stable when the real share "
    "is large enough",
    arxiv="2310.00429",
    entry="inproceedings",
)

SEDDIK = Reference(
    key="seddik2024bad",
    authors="Seddik, Mohamed El Amine and Chen, Suei-Wen and Hayou, Soufiane and Youssef, Pierre and Debbah, Merouane",
    year=2024,
    title="How Bad is Training on Synthetic Data? A Statistical Analysis of Language Model Collapse",
    venue="First Conference on Language Modeling (COLM 2024)",
    theorem="Theorem 1 (fully synthetic: S_m = 1 - (1 - 1/n)^m (1 - S_0)) and Proposition 1 (absorption in i "
    "with probability p_i)",
    arxiv="2404.05090",
    entry="inproceedings",
)
SURESH = Reference(
    key="suresh2025rate",
    authors="Suresh, Ananda Theertha and Thangaraj, Andrew and Khandavally, Aditya Nanda Kishore",
    year=2025,
    title="Rate of Model Collapse in Recursive Training",
    venue="Proceedings of The 28th International Conference on Artificial Intelligence and Statistics (AISTATS 2025)",
    theorem="Theorem 2 (Poisson): P(a symbol survives k generations) = 1 - exp(-n lambda_0 g_k), "
    "g_1 = 1, g_{k+1} = 1 - exp(-g_k)",
    arxiv="2412.17646",
    entry="inproceedings",
)
DOHMATOB_TAILS = Reference(
    key="dohmatob2024tale",
    authors="Dohmatob, Elvis and Feng, Yunzhen and Yang, Pu and Charton, Francois and Kempe, Julia",
    year=2024,
    title="A Tale of Tails: Model Collapse as a Change of Scaling Laws",
    venue="Proceedings of the 41st International Conference on Machine Learning (ICML 2024)",
    theorem="Theorem 2.1: training on data cut at rank k gives test error of order T^-(1-1/beta) + k^-(beta-1)",
    arxiv="2402.07043",
    entry="inproceedings",
)
FENG_VERIFICATION = Reference(
    key="feng2025beyond",
    authors="Feng, Yunzhen and Dohmatob, Elvis and Yang, Pu and Charton, Francois and Kempe, Julia",
    year=2025,
    title="Beyond Model Collapse: Scaling Up with Synthesized Data Requires Verification",
    venue="The Thirteenth International Conference on Learning Representations (ICLR 2025)",
    theorem="Theorem 4.2: a verifier keeping correct labels with probability phi and wrong ones with probability "
    "psi has the breakdown point p* = 1/(1 + psi/phi): with unlimited data the linear classifier is perfect if "
    "p < p* and fails if p > p*",
    arxiv="2406.07515",
    entry="inproceedings",
)
STRONG_COLLAPSE = Reference(
    key="dohmatob2025strong",
    authors="Dohmatob, Elvis and Feng, Yunzhen and Subramonian, Arjun and Kempe, Julia",
    year=2025,
    title="Strong Model Collapse",
    venue="The Thirteenth International Conference on Learning Representations (ICLR 2025)",
    theorem="Corollary 1 (isotropic, ridgeless): E_test ~ sigma^2 phi/(1-phi) + (p2^2 + p2 p1 phi/(1-phi)) c^2; "
    "the synthetic term p2^2 c^2 does not vanish as n grows",
    arxiv="2410.04840",
    entry="inproceedings",
)
GOLDEN_RATIO = Reference(
    key="he2025golden",
    authors="He, Hengzhi and Xu, Shirong and Cheng, Guang",
    year=2025,
    title="Golden Ratio Weighting Prevents Model Collapse",
    venue="arXiv preprint",
    theorem="The optimal weight on fresh real data, w*(k) = (sqrt(k^2 + 4k) - k)/2 (1/phi at k = 1), and the "
    "Gaussian mean's stationary error w* sigma^2/n",
    arxiv="2502.18049",
)


# The release this source tree is (``CITATION.cff``'s ``date-released``; a test keeps them equal).
RELEASE_DATE = "2026-11-25"


def package_bibtex(version: str, commit: str | None = None) -> str:
    """The package's own BibTeX entry (``collapse cite package``), as ``CITATION.cff`` gives it."""
    fields = [
        ("author", "{model-collapse contributors}"),
        ("title", "{model-collapse}: a reference reproduction package for the theory of model collapse"),
        ("year", RELEASE_DATE[:4]),
        ("version", version),
        ("note", "Software" + (f", commit {commit}" if commit else "")),
    ]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@software{{model_collapse,\n{body}\n}}"
