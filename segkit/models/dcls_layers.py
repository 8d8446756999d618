"""Deprecated module: what it held moved to modules named by what they hold,
``conv_layers``, ``dcls_aspp_head`` and
``dcls_encoder_decoder`` (``segkit.models`` exports them as before). Importing
them from here works for one more release, with a warning."""
from segkit.utils.deprecation import moved_names

__getattr__ = moved_names(__name__, {
    'DCLSConv2d': 'segkit.models.conv_layers.DCLSConv2d',
    'DCLSASPPHead': 'segkit.models.dcls_aspp_head.DCLSASPPHead',
    'DCLSEncoderDecoder': 'segkit.models.dcls_encoder_decoder.DCLSEncoderDecoder',
})
