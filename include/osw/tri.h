/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A three-valued answer for the contract's conditions that can be true,
 * false or unknown (an input the webhook cannot decode). Unknown is never
 * folded into false by the producer: the caller decides, and the contract
 * makes it fail open.
 */
#ifndef OSW_TRI_H
#define OSW_TRI_H

enum osw_tri {
    OSW_TRI_FALSE = 0,
    OSW_TRI_TRUE,
    OSW_TRI_UNKNOWN,
};

#endif /* OSW_TRI_H */
